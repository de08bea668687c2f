-- Token bucket (throttle_core/policies/token_bucket.py), decided in the frame of frame.sql.
DECLARE
    v_avail float8 := p_limit;
    v_timer float8;
    v_wait float8;
    v_sid text := p_id;
BEGIN
    IF v_state IS NOT NULL THEN
        v_timer := (v_state ->> 'timer')::float8;
        v_avail := (v_state ->> 'tokens')::float8;
        IF decided_at - v_timer > 0 THEN
            v_avail := v_avail + (decided_at - v_timer) * p_rate;
        END IF;
        v_avail := least(p_limit::float8, v_avail);
    END IF;
    IF p_refund_at IS NOT NULL THEN
        IF v_state IS NULL THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_avail := least(p_limit::float8, v_avail + p_tokens);
        v_timer := CASE WHEN decided_at > v_timer THEN decided_at ELSE v_timer END;
        v_sid := v_state ->> 'id';
    ELSE
        v_wait := CASE WHEN v_avail >= p_tokens THEN 0 ELSE (p_tokens - v_avail) / p_rate END;
        IF p_tokens = 0 OR v_wait > p_max_wait THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_avail := v_avail - p_tokens;
        v_timer := CASE WHEN v_state IS NULL OR decided_at > v_timer
            THEN decided_at ELSE v_timer END;
    END IF;
    v_new := jsonb_build_object('type', 'token_bucket', 'v', 1, 'id', v_sid,
        'limit', p_limit, 'rate', p_rate, 'tokens', v_avail, 'timer', v_timer);
    v_life := (p_limit - v_avail) / p_rate;
END;

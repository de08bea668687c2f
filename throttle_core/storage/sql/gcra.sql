-- GCRA (throttle_core/policies/gcra.py), decided in the frame of frame.sql: the theoretical
-- arrival time is base + count * period, computed as Python does.
DECLARE
    v_base float8 := decided_at;
    v_count float8 := 0;
    v_wait float8;
    v_sid text := p_id;
BEGIN
    IF v_state IS NOT NULL AND (v_state ->> 'base')::float8
        + (v_state ->> 'count')::float8 * p_period > decided_at THEN
        v_base := (v_state ->> 'base')::float8;
        v_count := (v_state ->> 'count')::float8;
    END IF;
    IF p_refund_at IS NOT NULL THEN
        IF v_count = 0 THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_count := greatest(0, v_count - p_tokens);
        v_sid := v_state ->> 'id';
    ELSE
        v_wait := greatest(0, v_base + (v_count + p_tokens - p_limit) * p_period - decided_at);
        IF p_tokens = 0 OR v_wait > p_max_wait THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_count := v_count + p_tokens;
    END IF;
    v_new := jsonb_build_object('type', 'gcra', 'v', 1, 'id', v_sid, 'limit', p_limit,
        'period', p_period, 'base', v_base, 'count', v_count, 'timer', decided_at);
    v_life := v_base + v_count * p_period - decided_at;
END;

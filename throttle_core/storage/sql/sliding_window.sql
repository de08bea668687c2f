-- Sliding-window counter (throttle_core/policies/sliding_window.py), decided in the frame of
-- frame.sql: admitted when the estimate at decided_at leaves room.
DECLARE
    v_clock_start float8 := floor(decided_at / p_interval) * p_interval;
    v_start float8 := v_clock_start;
    v_previous float8 := 0;
    v_current float8 := 0;
    v_shift float8;
    v_age float8;
    v_elapsed float8;
    v_sid text := p_id;
BEGIN
    IF v_state IS NOT NULL THEN
        v_shift := round((v_clock_start - (v_state ->> 'start')::float8) / p_interval);
        IF v_shift <= 0 THEN
            v_start := (v_state ->> 'start')::float8;
            v_previous := (v_state ->> 'previous')::float8;
            v_current := (v_state ->> 'current')::float8;
        ELSIF v_shift = 1 THEN
            v_previous := (v_state ->> 'current')::float8;
        END IF;
    END IF;
    IF p_refund_at IS NOT NULL THEN
        IF v_state IS NULL THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_age := round((v_start - floor(p_refund_at / p_interval) * p_interval) / p_interval);
        IF v_age = 0 AND v_current <> 0 THEN
            v_current := greatest(0, v_current - p_tokens);
        ELSIF v_age = 1 AND v_previous <> 0 THEN
            v_previous := greatest(0, v_previous - p_tokens);
        ELSE
            RETURN NEXT;
            RETURN;
        END IF;
        v_sid := v_state ->> 'id';
    ELSE
        v_elapsed := CASE WHEN decided_at > v_start THEN decided_at - v_start ELSE 0 END;
        IF p_tokens = 0 OR floor(v_previous * (1.0 - v_elapsed / p_interval) + v_current)
            + p_tokens > p_limit THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_current := v_current + p_tokens;
    END IF;
    v_new := jsonb_build_object('type', 'sliding_window', 'v', 1, 'id', v_sid,
        'interval', p_interval, 'start', v_start, 'previous', v_previous,
        'current', v_current, 'timer', decided_at);
    v_life := v_start + 2 * p_interval - decided_at;
END;

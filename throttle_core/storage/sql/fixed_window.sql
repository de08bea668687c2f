-- Fixed window (throttle_core/policies/fixed_window.py), decided in the frame of frame.sql.
-- Hit counts must be written as plain digits, as from_dict requires of them.
DECLARE
    v_start float8;
    v_hits bigint[];
    v_count integer;
    v_shift float8;
    v_booked float8;
    v_window integer;
    v_clock_start float8;
    v_wait float8;
    v_sid text := p_id;
BEGIN
    IF v_state IS NOT NULL
        AND (v_state -> 'hits')::text !~ '^\[[0-9]{1,18}(, [0-9]{1,18})*\]$' THEN
        v_state := NULL;
    END IF;
    IF v_state IS NOT NULL THEN
        v_start := (v_state ->> 'start')::float8;
        v_hits := translate((v_state -> 'hits')::text, '[]', '{}')::bigint[];
        v_count := cardinality(v_hits);
    END IF;
    IF p_align = 'clock' THEN
        v_clock_start := floor(decided_at / p_interval) * p_interval;
        IF v_state IS NULL THEN
            v_start := v_clock_start;
            v_hits := ARRAY[0]::bigint[];
        ELSE
            v_shift := round((v_clock_start - v_start) / p_interval);
            IF v_shift > 0 THEN
                v_start := v_clock_start;
                v_hits := CASE WHEN v_shift < v_count
                    THEN v_hits[v_shift::integer + 1 : v_count] ELSE ARRAY[0]::bigint[] END;
            END IF;
        END IF;
    ELSIF v_state IS NULL OR decided_at >= v_start + v_count * p_interval THEN
        v_start := decided_at;
        v_hits := ARRAY[0]::bigint[];
    ELSE
        v_shift := greatest(0, floor((decided_at - v_start) / p_interval));
        v_start := v_start + v_shift * p_interval;
        v_hits := v_hits[v_shift::integer + 1 : v_count];
    END IF;
    v_count := cardinality(v_hits);
    IF p_refund_at IS NOT NULL THEN
        IF v_state IS NULL THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_booked := floor((p_refund_at - v_start) / p_interval + 1e-9);
        IF v_booked < 0 OR v_booked >= v_count OR v_hits[v_booked::integer + 1] = 0 THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_hits[v_booked::integer + 1] := greatest(0, v_hits[v_booked::integer + 1] - p_tokens);
        v_sid := v_state ->> 'id';
    ELSE
        IF p_tokens = 0 THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_window := 0;
        WHILE v_window < v_count AND v_hits[v_window + 1] > p_limit - p_tokens LOOP
            v_window := v_window + 1;
        END LOOP;
        v_wait := CASE WHEN v_window = 0 THEN 0
            ELSE v_start + v_window * p_interval - decided_at END;
        IF v_wait > p_max_wait THEN
            RETURN NEXT;
            RETURN;
        END IF;
        IF v_window = v_count THEN
            v_hits := v_hits || 0::bigint;
        END IF;
        v_hits[v_window + 1] := v_hits[v_window + 1] + p_tokens;
    END IF;
    v_new := jsonb_build_object('type', 'fixed_window', 'v', 1, 'id', v_sid,
        'interval', p_interval, 'start', v_start, 'hits', to_jsonb(v_hits),
        'timer', decided_at);
    v_life := v_start + cardinality(v_hits) * p_interval - decided_at;
END;

-- The decision function of one PostgresStorage table: the Python policies of
-- throttle_core/policies, line for line, run where the row lives. One call locks the row
-- (SELECT ... FOR UPDATE, or INSERT ... ON CONFLICT DO NOTHING for a new id, deciding again
-- on the winner's row when another writer inserted it first), decides, writes and returns
-- the stored state it decided on, so the caller rebuilds the full RateLimit in Python.
-- p_size is the token bucket's tokens per second or a window's length in seconds;
-- p_refund_at not NULL gives back p_tokens booked for that time instead of consuming.
-- p_durable false commits the decision asynchronously (synchronous_commit = off), but only
-- when the call is its transaction's first command, that is, its own transaction.
-- The table and function names, the state checks (jsonpath: what from_dict accepts and a
-- decision at decided_at could have written) and the TTL cap are filled in by postgres.py
-- (Statements). A stored state failing them counts as absent (Python logs it).
CREATE OR REPLACE FUNCTION {function}(
    p_id text, p_policy text, p_limit bigint, p_size float8, p_align text, p_tokens bigint,
    p_max_wait float8, p_refund_at float8, p_now float8, p_clock float8, p_durable boolean
) RETURNS TABLE (stored_state jsonb, decided_at float8)
LANGUAGE plpgsql VOLATILE SET extra_float_digits = 3 AS $decide$
DECLARE
    v_found boolean;
    v_data jsonb;
    v_expires timestamptz;
    v_server float8;
    v_state jsonb;
    v_new jsonb;
    v_write boolean := false;
    v_sid text := p_id;
    v_life float8;
    v_need bigint := greatest(p_tokens, 1);
    v_avail float8;
    v_timer float8;
    v_wait float8;
    v_start float8;
    v_hits bigint[];
    v_len integer;
    v_shift float8;
    v_k integer;
    v_prev float8;
    v_cur float8;
    v_at float8;
    v_tries integer := 0;
BEGIN
    IF NOT p_durable AND statement_timestamp() = transaction_timestamp() THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    LOOP
        SELECT t.data, t.expires_at INTO v_data, v_expires
        FROM {table} AS t WHERE t.id = p_id FOR UPDATE;
        v_found := FOUND;
        v_server := date_part('epoch', clock_timestamp());
        decided_at := coalesce(p_now, v_server);
        stored_state := CASE WHEN v_found AND (v_expires IS NULL
            OR v_expires > to_timestamp(coalesce(p_clock, v_server))) THEN v_data END;
        v_state := CASE WHEN jsonb_path_exists(stored_state, CASE p_policy
                WHEN 'token_bucket' THEN {token_bucket_valid}::jsonpath
                WHEN 'fixed_window' THEN {fixed_window_valid}::jsonpath
                ELSE {sliding_window_valid}::jsonpath END,
                jsonb_build_object('now', decided_at), true)
            AND (p_policy <> 'fixed_window'
                OR (stored_state -> 'hits')::text ~ '^\[[0-9]{{1,18}}(, [0-9]{{1,18}})*\]$')
            THEN stored_state END;
        v_write := false;

        IF p_policy = 'token_bucket' THEN
            v_avail := p_limit;
            IF v_state IS NOT NULL THEN
                v_timer := (v_state ->> 'timer')::float8;
                v_avail := (v_state ->> 'tokens')::float8;
                IF decided_at - v_timer > 0 THEN
                    v_avail := v_avail + (decided_at - v_timer) * p_size;
                END IF;
                v_avail := least(p_limit::float8, v_avail);
            END IF;
            IF p_refund_at IS NOT NULL THEN
                IF v_state IS NOT NULL THEN
                    v_avail := least(p_limit::float8, v_avail + p_tokens);
                    v_timer := CASE WHEN decided_at > v_timer THEN decided_at ELSE v_timer END;
                    v_sid := v_state ->> 'id';
                    v_write := true;
                END IF;
            ELSIF p_tokens > 0 THEN
                v_wait := CASE WHEN v_avail >= p_tokens THEN 0
                    ELSE (p_tokens - v_avail) / p_size END;
                IF p_max_wait IS NULL OR v_wait <= p_max_wait THEN
                    v_avail := v_avail - p_tokens;
                    v_timer := CASE WHEN v_state IS NULL OR decided_at > v_timer
                        THEN decided_at ELSE v_timer END;
                    v_write := true;
                END IF;
            END IF;
            IF v_write THEN
                v_new := jsonb_build_object('type', 'token_bucket', 'v', 1, 'id', v_sid,
                    'limit', p_limit, 'rate', p_size, 'tokens', v_avail, 'timer', v_timer);
                v_life := (p_limit - v_avail) / p_size;
            END IF;

        ELSIF p_policy = 'fixed_window' THEN
            IF v_state IS NOT NULL THEN
                v_start := (v_state ->> 'start')::float8;
                v_hits := translate((v_state -> 'hits')::text, '[]', '{{}}')::bigint[];
                v_len := cardinality(v_hits);
            END IF;
            IF p_align = 'clock' THEN
                v_at := floor(decided_at / p_size) * p_size;
                IF v_state IS NULL THEN
                    v_start := v_at;
                    v_hits := ARRAY[0]::bigint[];
                ELSE
                    v_shift := round((v_at - v_start) / p_size);
                    IF v_shift > 0 THEN
                        v_start := v_at;
                        v_hits := CASE WHEN v_shift < v_len
                            THEN v_hits[v_shift::integer + 1 : v_len] ELSE ARRAY[0]::bigint[] END;
                    END IF;
                END IF;
            ELSIF v_state IS NULL OR decided_at >= v_start + v_len * p_size THEN
                v_start := decided_at;
                v_hits := ARRAY[0]::bigint[];
            ELSE
                v_shift := greatest(0, floor((decided_at - v_start) / p_size));
                v_start := v_start + v_shift * p_size;
                v_hits := v_hits[v_shift::integer + 1 : v_len];
            END IF;
            v_len := cardinality(v_hits);
            IF p_refund_at IS NOT NULL THEN
                IF v_state IS NOT NULL THEN
                    v_shift := floor((p_refund_at - v_start) / p_size + 1e-9);
                    IF v_shift >= 0 AND v_shift < v_len AND v_hits[v_shift::integer + 1] <> 0 THEN
                        v_k := v_shift::integer + 1;
                        v_hits[v_k] := greatest(0, v_hits[v_k] - p_tokens);
                        v_sid := v_state ->> 'id';
                        v_write := true;
                    END IF;
                END IF;
            ELSIF p_tokens > 0 THEN
                v_k := 0;
                WHILE v_k < v_len AND v_hits[v_k + 1] > p_limit - v_need LOOP
                    v_k := v_k + 1;
                END LOOP;
                v_wait := CASE WHEN v_k = 0 THEN 0 ELSE v_start + v_k * p_size - decided_at END;
                IF p_max_wait IS NULL OR v_wait <= p_max_wait THEN
                    IF v_k = v_len THEN
                        v_hits := v_hits || 0::bigint;
                    END IF;
                    v_hits[v_k + 1] := v_hits[v_k + 1] + p_tokens;
                    v_write := true;
                END IF;
            END IF;
            IF v_write THEN
                v_new := jsonb_build_object('type', 'fixed_window', 'v', 1, 'id', v_sid,
                    'interval', p_size, 'start', v_start, 'hits', to_jsonb(v_hits),
                    'timer', decided_at);
                v_life := v_start + cardinality(v_hits) * p_size - decided_at;
            END IF;

        ELSE
            v_at := floor(decided_at / p_size) * p_size;
            v_start := v_at;
            v_prev := 0;
            v_cur := 0;
            IF v_state IS NOT NULL THEN
                v_shift := round((v_at - (v_state ->> 'start')::float8) / p_size);
                IF v_shift <= 0 THEN
                    v_start := (v_state ->> 'start')::float8;
                    v_prev := (v_state ->> 'previous')::float8;
                    v_cur := (v_state ->> 'current')::float8;
                ELSIF v_shift = 1 THEN
                    v_prev := (v_state ->> 'current')::float8;
                END IF;
            END IF;
            IF p_refund_at IS NOT NULL THEN
                IF v_state IS NOT NULL THEN
                    v_shift := round((v_start - floor(p_refund_at / p_size) * p_size) / p_size);
                    IF v_shift = 0 AND v_cur <> 0 THEN
                        v_cur := greatest(0, v_cur - p_tokens);
                        v_write := true;
                    ELSIF v_shift = 1 AND v_prev <> 0 THEN
                        v_prev := greatest(0, v_prev - p_tokens);
                        v_write := true;
                    END IF;
                    v_sid := v_state ->> 'id';
                END IF;
            ELSIF p_tokens > 0 THEN
                v_wait := CASE WHEN decided_at > v_start THEN decided_at - v_start ELSE 0 END;
                IF floor(v_prev * (1.0 - v_wait / p_size) + v_cur) + p_tokens <= p_limit THEN
                    v_cur := v_cur + p_tokens;
                    v_write := true;
                END IF;
            END IF;
            IF v_write THEN
                v_new := jsonb_build_object('type', 'sliding_window', 'v', 1, 'id', v_sid,
                    'interval', p_size, 'start', v_start, 'previous', v_prev, 'current', v_cur,
                    'timer', decided_at);
                v_life := v_start + 2 * p_size - decided_at;
            END IF;
        END IF;

        IF NOT v_write THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_expires := to_timestamp(coalesce(p_clock, v_server)
            + least(greatest(1, ceil(v_life)), {max_ttl}));
        IF v_found THEN
            UPDATE {table} SET data = v_new, expires_at = v_expires WHERE id = p_id;
            RETURN NEXT;
            RETURN;
        END IF;
        INSERT INTO {table} (id, data, expires_at) VALUES (p_id, v_new, v_expires)
        ON CONFLICT (id) DO NOTHING;
        IF FOUND THEN
            RETURN NEXT;
            RETURN;
        END IF;
        v_tries := v_tries + 1;
        IF v_tries > 3 THEN
            RAISE EXCEPTION 'throttle: the row % keeps changing under a new insert; '
                'PostgresStorage needs READ COMMITTED isolation', p_id;
        END IF;
    END LOOP;
END
$decide$

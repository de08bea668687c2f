-- The decision function of one policy on one PostgresStorage table: the frame every policy
-- shares, with the policy's own block (sql/<policy>.sql) in the middle. One call locks the row
-- (SELECT ... FOR UPDATE, or INSERT ... ON CONFLICT DO NOTHING for a new id, deciding again
-- on the winner's row when another writer inserted it first), decides, writes and returns
-- the stored state it decided on, so the caller rebuilds the full RateLimit in Python.
-- The block reads v_state (the stored state, NULL when absent or failing the checks),
-- decided_at, p_id, p_tokens, p_refund_at (not NULL: give back p_tokens booked for that time
-- instead of consuming), p_max_wait and the policy's parameters; it sets v_new to the state
-- to write (left NULL: nothing changes) and v_life to its lifetime in seconds.
-- p_durable false commits the call's transaction asynchronously (synchronous_commit = off):
-- callers pass it only for a call that is its own transaction (the server cannot tell, since
-- under the extended query protocol a statement's timestamp is never its transaction's).
-- The names, the parameters, the state checks (jsonpath: what from_dict accepts and a
-- decision at decided_at could have written) and the TTL cap are filled in by postgres.py.
CREATE OR REPLACE FUNCTION {function}(
    p_id text, p_tokens bigint, p_max_wait float8, p_refund_at float8, p_now float8,
    p_clock float8, p_durable boolean, {params}
) RETURNS TABLE (stored_state jsonb, decided_at float8)
LANGUAGE plpgsql VOLATILE SET extra_float_digits = 3 AS $decide$
DECLARE
    v_found boolean;
    v_data jsonb;
    v_expires timestamptz;
    v_server float8;
    v_state jsonb;
    v_new jsonb;
    v_life float8;
    v_tries integer := 0;
BEGIN
    IF NOT p_durable THEN
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
        v_state := CASE WHEN jsonb_path_exists(stored_state, {valid}::jsonpath,
            jsonb_build_object('now', decided_at), true) THEN stored_state END;
        v_new := NULL;

        {decide}

        IF v_new IS NULL THEN
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

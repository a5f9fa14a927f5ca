WITH scope AS (SELECT t.ctid AS backfill_tid, t.xmin AS backfill_xmin, t."id" AS backfill_k0, (t."seen_at" IS NULL) AS n0, (t."amount" IS NULL) AS n1, (t."label" IS NULL) AS n2, CASE
 WHEN t."seen_at" IS NULL THEN ((t."payload" -> 'seen') -> 'at') END AS i0_0, CASE
 WHEN t."seen_at" IS NULL THEN t."created_at" END AS i0_1, CASE
 WHEN t."amount" IS NULL THEN (((t."payload" -> 'items') -> 0) -> 'amount') END AS i1_0, CASE
 WHEN t."label" IS NULL THEN (t."payload" -> 'label') END AS i2_0
 FROM "public"."events" AS t
 WHERE t."id" <= $1
 AND (
kind <> 'test'
) ORDER BY t."id" LIMIT $2), computed AS (SELECT backfill_tid, backfill_xmin, backfill_k0, n0, CASE
 WHEN n0 THEN coalesce(x0_0, CASE
 WHEN i0_1 >= '0001-01-01Z'
 AND i0_1 < '10000-01-01Z' THEN date_trunc('milliseconds', i0_1)
 ELSE (('left to the engine: ' || i0_1::text)::int::text::timestamptz) END) END AS v0, (x0_0 IS NULL) AS first_missing0, n1, CASE
 WHEN n1 THEN coalesce(x1_0) END AS v1, (x1_0 IS NULL) AS first_missing1, n2, CASE
 WHEN n2 THEN coalesce(x2_0, '7'::text) END AS v2, (x2_0 IS NULL) AS first_missing2
 FROM (SELECT *, CASE jsonb_typeof(i0_0)
 WHEN 'string' THEN CASE
 WHEN left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 4) = '0000'
 OR (left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 10) = '0001-01-01'
 AND strpos(substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 11), '+') > 0)
 OR (left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 10) = '9999-12-31'
 AND strpos(substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 11), '-') > 0) THEN (('left to the engine: ' || i0_0_text)::int::text::timestamptz)
 WHEN CASE
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__ __:__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___+__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 25, 2) || substr(i0_0_text, 28, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__+__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 2) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 24, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.______Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 21, 6) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__ __:__:__.___' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || '1')::int8 > 0
 ELSE FALSE END
 AND substr(i0_0_text, 12, 2) <> '24' THEN date_trunc('milliseconds', i0_0_text::timestamptz)
 WHEN i0_0_text ~ '^-?[0-9]{1,15}([.][0-9]{1,6})?$' THEN CASE
 WHEN (CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) > 253402300799999 + 0.5
 OR (CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) < -62135596800000 - 0.5
 OR (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END) > 253402300799999
 OR (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END) < -62135596800000 THEN NULL
 ELSE timestamptz 'epoch' + (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END)::bigint * interval '1 millisecond' END
 WHEN replace(upper(btrim(i0_0_text, ' ')), ',', '.') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$' THEN CASE
 WHEN substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 12, 2) > '23'
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 15, 2) > '59'
 OR (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 17, 1) = ':'
 AND substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 18, 2) > '60')
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 6, 2) NOT BETWEEN '01'
 AND '12'
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2) NOT BETWEEN '01'
 AND '31'
 OR (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2) > '28'
 AND substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2)::int > extract(day from (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 1, 7) || '-01')::date + interval '1 month' - interval '1 day')) THEN NULL
 ELSE date_trunc('milliseconds', regexp_replace(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), '([.][0-9]{3})[0-9]+', '\1')::timestamptz) END
 WHEN i0_0_text !~ '[0-9]' THEN NULL
 ELSE (('left to the engine: ' || i0_0_text)::int::text::timestamptz) END
 WHEN 'number' THEN CASE
 WHEN (CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) > 253402300799999 + 0.5
 OR (CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) < -62135596800000 - 0.5
 OR (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END) > 253402300799999
 OR (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END) < -62135596800000 THEN NULL
 ELSE timestamptz 'epoch' + (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END)::bigint * interval '1 millisecond' END
 ELSE NULL END AS x0_0, CASE jsonb_typeof(i1_0)
 WHEN 'number' THEN CASE
 WHEN scale((i1_0::numeric)) = 0 THEN (i1_0::numeric)::bigint
 WHEN (i1_0::numeric)::float8 = trunc((i1_0::numeric)::float8)
 AND abs((i1_0::numeric)::float8) <= 9007199254740992 THEN (i1_0::numeric)::float8::bigint
 ELSE NULL END
 WHEN 'string' THEN CASE
 WHEN i1_0_text ~ '^-?[0-9]{1,18}$' THEN i1_0_text::bigint
 WHEN strpos(i1_0_text, ':') > 0
 OR (strpos(substr(i1_0_text, 2), '-') > 0
 AND strpos(lower(i1_0_text), 'e') = 0)
 OR i1_0_text !~ '[0-9]' THEN NULL
 ELSE (('left to the engine: ' || i1_0_text)::int::text::bigint) END
 WHEN 'boolean' THEN CASE
 WHEN i1_0 = 'true'::jsonb THEN 1
 ELSE 0 END
 ELSE NULL END AS x1_0, CASE jsonb_typeof(i2_0)
 WHEN 'string' THEN i2_0_text
 WHEN 'boolean' THEN i2_0::text
 WHEN 'number' THEN CASE
 WHEN scale((i2_0::numeric)) = 0
 AND abs((i2_0::numeric)) < 1e15 THEN i2_0::text
 ELSE (('left to the engine: ' || i2_0::text)::int::text::text) END
 WHEN 'null' THEN NULL
 ELSE (('left to the engine: ' || i2_0::text)::int::text::text) END AS x2_0
 FROM (SELECT *, i0_0 #>> '{}' AS i0_0_text, i1_0 #>> '{}' AS i1_0_text, i2_0 #>> '{}' AS i2_0_text
 FROM scope OFFSET 0) AS scope_text OFFSET 0) AS converted), written AS (UPDATE "public"."events" AS t SET "seen_at" = coalesce(t."seen_at", computed.v0), "amount" = coalesce(t."amount", computed.v1::bigint), "label" = coalesce(t."label", computed.v2)
 FROM computed
 WHERE t.ctid = computed.backfill_tid
 AND ((t."seen_at" IS NULL
 AND computed.v0 IS NOT NULL)
 OR (t."amount" IS NULL
 AND computed.v1 IS NOT NULL)
 OR (t."label" IS NULL
 AND computed.v2 IS NOT NULL)) RETURNING 1)
 SELECT count(*), count(*) FILTER (WHERE n0
 OR n1
 OR n2), count(*) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), count(*) FILTER (WHERE (first_missing0
 AND v0 IS NOT NULL)
 OR (first_missing1
 AND v1 IS NOT NULL)
 OR (first_missing2
 AND v2 IS NOT NULL)), count(*) FILTER (WHERE (n0
 AND v0 IS NULL)
 OR (n1
 AND v1 IS NULL)
 OR (n2
 AND v2 IS NULL)), min(backfill_k0), max(backfill_k0), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n0
 AND v0 IS NULL))[1:100], chr(30)), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n1
 AND v1 IS NULL))[1:100], chr(30)), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n2
 AND v2 IS NULL))[1:100], chr(30)), (SELECT count(*)
 FROM written)
 FROM computed
WITH scope AS (SELECT t.ctid AS backfill_tid, t.xmin AS backfill_xmin, t."id" AS backfill_k0, (t."seen_at" IS NULL) AS n0, (t."amount" IS NULL) AS n1, (t."label" IS NULL) AS n2, CASE
 WHEN t."seen_at" IS NULL THEN ((t."payload" -> 'seen') -> 'at') END AS i0_0, CASE
 WHEN t."seen_at" IS NULL THEN t."created_at" END AS i0_1, CASE
 WHEN t."amount" IS NULL THEN (((t."payload" -> 'items') -> 0) -> 'amount') END AS i1_0, CASE
 WHEN t."label" IS NULL THEN (t."payload" -> 'label') END AS i2_0
 FROM "public"."events" AS t
 WHERE t."id" > $1
 AND t."id" <= $2
 AND (
kind <> 'test'
) ORDER BY t."id" LIMIT $3), computed AS (SELECT backfill_tid, backfill_xmin, backfill_k0, n0, CASE
 WHEN n0 THEN coalesce(x0_0, CASE
 WHEN i0_1 >= '0001-01-01Z'
 AND i0_1 < '10000-01-01Z' THEN date_trunc('milliseconds', i0_1)
 ELSE (('left to the engine: ' || i0_1::text)::int::text::timestamptz) END) END AS v0, (x0_0 IS NULL) AS first_missing0, n1, CASE
 WHEN n1 THEN coalesce(x1_0) END AS v1, (x1_0 IS NULL) AS first_missing1, n2, CASE
 WHEN n2 THEN coalesce(x2_0, '7'::text) END AS v2, (x2_0 IS NULL) AS first_missing2
 FROM (SELECT *, CASE jsonb_typeof(i0_0)
 WHEN 'string' THEN CASE
 WHEN left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 4) = '0000'
 OR (left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 10) = '0001-01-01'
 AND strpos(substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 11), '+') > 0)
 OR (left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 10) = '9999-12-31'
 AND strpos(substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 11), '-') > 0) THEN (('left to the engine: ' || i0_0_text)::int::text::timestamptz)
 WHEN CASE
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__ __:__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___+__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 25, 2) || substr(i0_0_text, 28, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__+__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 2) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 24, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.______Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 21, 6) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__ __:__:__.___' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || '1')::int8 > 0
 ELSE FALSE END
 AND substr(i0_0_text, 12, 2) <> '24' THEN date_trunc('milliseconds', i0_0_text::timestamptz)
 WHEN i0_0_text ~ '^-?[0-9]{1,15}([.][0-9]{1,6})?$' THEN CASE
 WHEN (CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) > 253402300799999 + 0.5
 OR (CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) < -62135596800000 - 0.5
 OR (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END) > 253402300799999
 OR (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END) < -62135596800000 THEN NULL
 ELSE timestamptz 'epoch' + (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END)::bigint * interval '1 millisecond' END
 WHEN replace(upper(btrim(i0_0_text, ' ')), ',', '.') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$' THEN CASE
 WHEN substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 12, 2) > '23'
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 15, 2) > '59'
 OR (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 17, 1) = ':'
 AND substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 18, 2) > '60')
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 6, 2) NOT BETWEEN '01'
 AND '12'
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2) NOT BETWEEN '01'
 AND '31'
 OR (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2) > '28'
 AND substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2)::int > extract(day from (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 1, 7) || '-01')::date + interval '1 month' - interval '1 day')) THEN NULL
 ELSE date_trunc('milliseconds', regexp_replace(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), '([.][0-9]{3})[0-9]+', '\1')::timestamptz) END
 WHEN i0_0_text !~ '[0-9]' THEN NULL
 ELSE (('left to the engine: ' || i0_0_text)::int::text::timestamptz) END
 WHEN 'number' THEN CASE
 WHEN (CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) > 253402300799999 + 0.5
 OR (CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) < -62135596800000 - 0.5
 OR (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END) > 253402300799999
 OR (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END) < -62135596800000 THEN NULL
 ELSE timestamptz 'epoch' + (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END)::bigint * interval '1 millisecond' END
 ELSE NULL END AS x0_0, CASE jsonb_typeof(i1_0)
 WHEN 'number' THEN CASE
 WHEN scale((i1_0::numeric)) = 0 THEN (i1_0::numeric)::bigint
 WHEN (i1_0::numeric)::float8 = trunc((i1_0::numeric)::float8)
 AND abs((i1_0::numeric)::float8) <= 9007199254740992 THEN (i1_0::numeric)::float8::bigint
 ELSE NULL END
 WHEN 'string' THEN CASE
 WHEN i1_0_text ~ '^-?[0-9]{1,18}$' THEN i1_0_text::bigint
 WHEN strpos(i1_0_text, ':') > 0
 OR (strpos(substr(i1_0_text, 2), '-') > 0
 AND strpos(lower(i1_0_text), 'e') = 0)
 OR i1_0_text !~ '[0-9]' THEN NULL
 ELSE (('left to the engine: ' || i1_0_text)::int::text::bigint) END
 WHEN 'boolean' THEN CASE
 WHEN i1_0 = 'true'::jsonb THEN 1
 ELSE 0 END
 ELSE NULL END AS x1_0, CASE jsonb_typeof(i2_0)
 WHEN 'string' THEN i2_0_text
 WHEN 'boolean' THEN i2_0::text
 WHEN 'number' THEN CASE
 WHEN scale((i2_0::numeric)) = 0
 AND abs((i2_0::numeric)) < 1e15 THEN i2_0::text
 ELSE (('left to the engine: ' || i2_0::text)::int::text::text) END
 WHEN 'null' THEN NULL
 ELSE (('left to the engine: ' || i2_0::text)::int::text::text) END AS x2_0
 FROM (SELECT *, i0_0 #>> '{}' AS i0_0_text, i1_0 #>> '{}' AS i1_0_text, i2_0 #>> '{}' AS i2_0_text
 FROM scope OFFSET 0) AS scope_text OFFSET 0) AS converted), written AS (UPDATE "public"."events" AS t SET "seen_at" = coalesce(t."seen_at", computed.v0), "amount" = coalesce(t."amount", computed.v1::bigint), "label" = coalesce(t."label", computed.v2)
 FROM computed
 WHERE t.ctid = computed.backfill_tid
 AND ((t."seen_at" IS NULL
 AND computed.v0 IS NOT NULL)
 OR (t."amount" IS NULL
 AND computed.v1 IS NOT NULL)
 OR (t."label" IS NULL
 AND computed.v2 IS NOT NULL)) RETURNING 1)
 SELECT count(*), count(*) FILTER (WHERE n0
 OR n1
 OR n2), count(*) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), count(*) FILTER (WHERE (first_missing0
 AND v0 IS NOT NULL)
 OR (first_missing1
 AND v1 IS NOT NULL)
 OR (first_missing2
 AND v2 IS NOT NULL)), count(*) FILTER (WHERE (n0
 AND v0 IS NULL)
 OR (n1
 AND v1 IS NULL)
 OR (n2
 AND v2 IS NULL)), min(backfill_k0), max(backfill_k0), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n0
 AND v0 IS NULL))[1:100], chr(30)), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n1
 AND v1 IS NULL))[1:100], chr(30)), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n2
 AND v2 IS NULL))[1:100], chr(30)), (SELECT count(*)
 FROM written)
 FROM computed
WITH scope AS (SELECT t.ctid AS backfill_tid, t.xmin AS backfill_xmin, t."id" AS backfill_k0, (t."seen_at" IS NULL) AS n0, (t."amount" IS NULL) AS n1, (t."label" IS NULL) AS n2, CASE
 WHEN t."seen_at" IS NULL THEN ((t."payload" -> 'seen') -> 'at') END AS i0_0, CASE
 WHEN t."seen_at" IS NULL THEN t."created_at" END AS i0_1, CASE
 WHEN t."amount" IS NULL THEN (((t."payload" -> 'items') -> 0) -> 'amount') END AS i1_0, CASE
 WHEN t."label" IS NULL THEN (t."payload" -> 'label') END AS i2_0
 FROM "public"."events" AS t
 WHERE t."id" > $1
 AND t."id" <= $2
 AND (
kind <> 'test'
) ORDER BY t."id" LIMIT $3), computed AS (SELECT backfill_tid, backfill_xmin, backfill_k0, n0, CASE
 WHEN n0 THEN coalesce(x0_0, CASE
 WHEN i0_1 >= '0001-01-01Z'
 AND i0_1 < '10000-01-01Z' THEN date_trunc('milliseconds', i0_1)
 ELSE (('left to the engine: ' || i0_1::text)::int::text::timestamptz) END) END AS v0, (x0_0 IS NULL) AS first_missing0, n1, CASE
 WHEN n1 THEN coalesce(x1_0) END AS v1, (x1_0 IS NULL) AS first_missing1, n2, CASE
 WHEN n2 THEN coalesce(x2_0, '7'::text) END AS v2, (x2_0 IS NULL) AS first_missing2
 FROM (SELECT *, CASE jsonb_typeof(i0_0)
 WHEN 'string' THEN CASE
 WHEN left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 4) = '0000'
 OR (left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 10) = '0001-01-01'
 AND strpos(substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 11), '+') > 0)
 OR (left(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 10) = '9999-12-31'
 AND strpos(substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 11), '-') > 0) THEN (('left to the engine: ' || i0_0_text)::int::text::timestamptz)
 WHEN CASE
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__ __:__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___+__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 25, 2) || substr(i0_0_text, 28, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__+__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 2) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 24, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.______Z' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 AND ('1' || substr(i0_0_text, 21, 6) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__T__:__:__.___' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__ __:__:__.___' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || substr(i0_0_text, 12, 2) || substr(i0_0_text, 15, 2) || substr(i0_0_text, 18, 2) || substr(i0_0_text, 21, 3) || '1')::int8 > 0
 WHEN i0_0_text LIKE '____-__-__' THEN ('1' || substr(i0_0_text, 1, 4) || substr(i0_0_text, 6, 2) || substr(i0_0_text, 9, 2) || '1')::int8 > 0
 ELSE FALSE END
 AND substr(i0_0_text, 12, 2) <> '24' THEN date_trunc('milliseconds', i0_0_text::timestamptz)
 WHEN i0_0_text ~ '^-?[0-9]{1,15}([.][0-9]{1,6})?$' THEN CASE
 WHEN (CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) > 253402300799999 + 0.5
 OR (CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) < -62135596800000 - 0.5
 OR (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END) > 253402300799999
 OR (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END) < -62135596800000 THEN NULL
 ELSE timestamptz 'epoch' + (trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END) - trunc((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs(i0_0_text::float8) >= 100000000000 THEN i0_0_text::float8
 ELSE i0_0_text::float8 * 1000 END))
 ELSE 0 END)::bigint * interval '1 millisecond' END
 WHEN replace(upper(btrim(i0_0_text, ' ')), ',', '.') ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?$' THEN CASE
 WHEN substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 12, 2) > '23'
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 15, 2) > '59'
 OR (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 17, 1) = ':'
 AND substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 18, 2) > '60')
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 6, 2) NOT BETWEEN '01'
 AND '12'
 OR substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2) NOT BETWEEN '01'
 AND '31'
 OR (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2) > '28'
 AND substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 9, 2)::int > extract(day from (substr(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), 1, 7) || '-01')::date + interval '1 month' - interval '1 day')) THEN NULL
 ELSE date_trunc('milliseconds', regexp_replace(replace(upper(btrim(i0_0_text, ' ')), ',', '.'), '([.][0-9]{3})[0-9]+', '\1')::timestamptz) END
 WHEN i0_0_text !~ '[0-9]' THEN NULL
 ELSE (('left to the engine: ' || i0_0_text)::int::text::timestamptz) END
 WHEN 'number' THEN CASE
 WHEN (CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) > 253402300799999 + 0.5
 OR (CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) < -62135596800000 - 0.5
 OR (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END) > 253402300799999
 OR (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END) < -62135596800000 THEN NULL
 ELSE timestamptz 'epoch' + (trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END)) + CASE
 WHEN abs((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END) - trunc((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))) >= 0.5 THEN sign((CASE
 WHEN abs((i0_0::numeric)::float8) >= 100000000000 THEN (i0_0::numeric)::float8
 ELSE (i0_0::numeric)::float8 * 1000 END))
 ELSE 0 END)::bigint * interval '1 millisecond' END
 ELSE NULL END AS x0_0, CASE jsonb_typeof(i1_0)
 WHEN 'number' THEN CASE
 WHEN scale((i1_0::numeric)) = 0 THEN (i1_0::numeric)::bigint
 WHEN (i1_0::numeric)::float8 = trunc((i1_0::numeric)::float8)
 AND abs((i1_0::numeric)::float8) <= 9007199254740992 THEN (i1_0::numeric)::float8::bigint
 ELSE NULL END
 WHEN 'string' THEN CASE
 WHEN i1_0_text ~ '^-?[0-9]{1,18}$' THEN i1_0_text::bigint
 WHEN strpos(i1_0_text, ':') > 0
 OR (strpos(substr(i1_0_text, 2), '-') > 0
 AND strpos(lower(i1_0_text), 'e') = 0)
 OR i1_0_text !~ '[0-9]' THEN NULL
 ELSE (('left to the engine: ' || i1_0_text)::int::text::bigint) END
 WHEN 'boolean' THEN CASE
 WHEN i1_0 = 'true'::jsonb THEN 1
 ELSE 0 END
 ELSE NULL END AS x1_0, CASE jsonb_typeof(i2_0)
 WHEN 'string' THEN i2_0_text
 WHEN 'boolean' THEN i2_0::text
 WHEN 'number' THEN CASE
 WHEN scale((i2_0::numeric)) = 0
 AND abs((i2_0::numeric)) < 1e15 THEN i2_0::text
 ELSE (('left to the engine: ' || i2_0::text)::int::text::text) END
 WHEN 'null' THEN NULL
 ELSE (('left to the engine: ' || i2_0::text)::int::text::text) END AS x2_0
 FROM (SELECT *, i0_0 #>> '{}' AS i0_0_text, i1_0 #>> '{}' AS i1_0_text, i2_0 #>> '{}' AS i2_0_text
 FROM scope OFFSET 0) AS scope_text OFFSET 0) AS converted)
 SELECT count(*), count(*) FILTER (WHERE n0
 OR n1
 OR n2), count(*) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), count(*) FILTER (WHERE (first_missing0
 AND v0 IS NOT NULL)
 OR (first_missing1
 AND v1 IS NOT NULL)
 OR (first_missing2
 AND v2 IS NOT NULL)), count(*) FILTER (WHERE (n0
 AND v0 IS NULL)
 OR (n1
 AND v1 IS NULL)
 OR (n2
 AND v2 IS NULL)), min(backfill_k0)::text, max(backfill_k0)::text, array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n0
 AND v0 IS NULL))[1:100], chr(30)), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n1
 AND v1 IS NULL))[1:100], chr(30)), array_to_string((array_agg(json_build_array(backfill_k0)::text ORDER BY backfill_k0) FILTER (WHERE n2
 AND v2 IS NULL))[1:100], chr(30)), array_agg(backfill_tid) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), array_agg(backfill_xmin) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), array_agg(computed.v0) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), array_agg(computed.v1::bigint) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL), array_agg(computed.v2) FILTER (WHERE v0 IS NOT NULL
 OR v1 IS NOT NULL
 OR v2 IS NOT NULL)
 FROM computed
UPDATE "public"."events" AS t SET "seen_at" = coalesce(t."seen_at", planned.w0), "amount" = coalesce(t."amount", planned.w1), "label" = coalesce(t."label", planned.w2)
 FROM unnest($1::tid[], $2::xid[], $3::timestamp with time zone[], $4::bigint[], $5::text[]) AS planned(backfill_tid, backfill_xmin, w0, w1, w2)
 WHERE t.ctid = planned.backfill_tid
 AND t.xmin = planned.backfill_xmin
 AND ((t."seen_at" IS NULL
 AND planned.w0 IS NOT NULL)
 OR (t."amount" IS NULL
 AND planned.w1 IS NOT NULL)
 OR (t."label" IS NULL
 AND planned.w2 IS NOT NULL))

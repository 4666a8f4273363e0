-- PostgreSQL's version 5 adds the rate_limits table that its instances
-- share. A SQLite file is served by one process, which counts its rate
-- limits in memory (models/ratelimit.go): nothing to add here.
SELECT 1;

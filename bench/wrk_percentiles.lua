-- wrk script for bench/http_bench.sh: after the run, prints one line of latency percentiles
-- in microseconds, "percentiles p50=... p90=... p99=... p99.9=...", from wrk's own latency
-- statistics (which wrk corrects for coordinated omission).
done = function(summary, latency, requests)
    local line = "percentiles"
    for _, p in ipairs({ 50, 90, 99, 99.9 }) do
        line = line .. string.format(" p%s=%d", p, latency:percentile(p))
    end
    io.write(line .. "\n")
end

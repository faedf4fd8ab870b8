# Draws docs/img/timer_lateness.png: how late weft's sleepers resume after their deadline
# (bench/sleep_bench.cpp), as percentiles of the pooled samples, at 1 and 2 workers, beside
# the floor of a plain thread busy-waiting on the same deadlines. Two panels: 10,000 tasks
# sleeping 1-50 ms at once, and one task sleeping 1 ms 1,000 times in a row. Log scale, as
# the values run from nanoseconds to milliseconds. Dashed red: the targets p50 <= 30 us and
# p99 <= 150 us.
# Set by bench/plot_benchmarks.sh: data_dir (benchmark_tables.py's output), output, terminal.
set terminal @terminal size 800,450 font ",9"
set output output

bar = 0.28
shown(v) = v >= 100 ? sprintf("%.0f", v) : v >= 1 ? sprintf("%.1f", v) : sprintf("%.2f", v)
panel(file) = data_dir."/".file
# One panel's bars and their values, as the rest of a plot command after its file: columns
# 2, 3, 4 are 1 worker, 2 workers and the floor.
bars = 'using ($0 - bar):2 with boxes lc rgb "#1f77b4" notitle, ' . \
       '"" using 0:3:xtic(1) with boxes lc rgb "#2ca02c" notitle, ' . \
       '"" using ($0 + bar):4 with boxes lc rgb "gray60" notitle, ' . \
       '"" using ($0 - bar):2:(shown($2)) with labels rotate by 90 left offset 0,0.4 font ",8" notitle, ' . \
       '"" using 0:3:(shown($3)) with labels rotate by 90 left offset 0,0.4 font ",8" notitle, ' . \
       '"" using ($0 + bar):4:(shown($4)) with labels rotate by 90 left offset 0,0.4 font ",8" notitle'

set style fill solid 0.85 border lc "black"
set boxwidth bar
set grid ytics lc "gray85"
set tics nomirror
set xtics scale 0
set logscale y
set yrange [0.005:200000]
set format y "10^{%T}"
set xrange [-0.6:3.6]
unset key
set xlabel "percentile of lateness" offset 0,0.3
set arrow 1 from -0.5,30 to 0.5,30 nohead dt 2 lw 1.5 lc "red" front
set arrow 2 from 0.5,150 to 1.5,150 nohead dt 2 lw 1.5 lc "red" front

set multiplot title "Timer lateness: deadline to resumption, median of 5 repetitions (lower is better)"
set tmargin at screen 0.86
set bmargin at screen 0.20

set lmargin at screen 0.09
set rmargin at screen 0.52
set ylabel "µs late (log scale)"
set title "10,000 tasks, each sleeping 1-50 ms"
plot panel("lateness_many.dat") @bars

set lmargin at screen 0.56
set rmargin at screen 0.99
unset ylabel
set format y ""
set title "one task sleeping 1 ms, 1,000 times in a row"
plot panel("lateness_chain.dat") @bars

# The legend, in a third plot across the whole width below the panels: a horizontal key
# wraps at its plot's width.
set lmargin at screen 0.05
set rmargin at screen 0.95
set tmargin at screen 0.06
set bmargin at screen 0.01
unset border
unset tics
unset title
unset xlabel
unset arrow
set key horizontal center center
unset logscale y
plot [0:1] [0:1] NaN notitle, \
     keyentry with boxes lc rgb "#1f77b4" title "weft, 1 worker", \
     keyentry with boxes lc rgb "#2ca02c" title "weft, 2 workers", \
     keyentry with boxes lc rgb "gray60" title "floor: busy wait", \
     keyentry with lines dt 2 lw 1.5 lc "red" title "target"

unset multiplot

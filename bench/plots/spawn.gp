# Draws docs/img/spawn.png: ns per task of each spawn and fork-join workload, weft beside
# oneTBB, one bar group per workload and worker count, on a log scale (flat spawn costs
# hundreds of ns, skynet tens); matmul, per node of its recursion and mostly serial block
# multiplies, in a panel of its own on a linear scale.
# Set by bench/plot_benchmarks.sh: data_dir (benchmark_tables.py's output), output, terminal.
set terminal @terminal size 800,450 font ",9"
set output output

weft_colour = "#1f77b4"
tbb_colour = "#ff7f0e"
bar = 0.4
# Row r of a table is the group at x = at(r): groups of one workload side by side, a gap
# between workloads.
at(row) = row + 0.6 * floor(row / 2)
workers(n) = sprintf("%d", n)
# A workload's name one word a line, from word n on.
stacked(name, n) = n >= words(name) ? word(name, n) : word(name, n)."\n".stacked(name, n + 1)
shown(v) = v >= 100 ? sprintf("%.0f", v) : sprintf("%.1f", v)

set style fill solid 0.85 border lc "black"
set boxwidth bar
set grid ytics mytics lc "gray85"
set key top left
set tics nomirror
set xtics scale 0 offset 0,0.3

set multiplot title "Spawn and join: wall time per task, median of 5 repetitions (lower is better)"

set lmargin at screen 0.09
set rmargin at screen 0.76
set tmargin at screen 0.90
set bmargin at screen 0.20
set logscale y
set yrange [10:1000]
set ylabel "ns per task (log scale)"
set xlabel "workload and worker threads" offset 0,-1.2
set xrange [-0.6:at(9) + 0.6]
plot data_dir."/spawn.dat" using (at($0) - bar/2):3:xtic(workers($2)) \
        with boxes lc rgb weft_colour title "weft", \
     "" using (at($0) + bar/2):4 with boxes lc rgb tbb_colour title "oneTBB task\\_group", \
     "" using (at($0) + 0.5):3:xtic($2 == 1 ? "\n".stacked(strcol(1), 1) : "") with points ps 0 notitle, \
     "" using (at($0) - bar/2):3:(shown($3)) with labels offset 0,0.6 font ",7.5" notitle, \
     "" using (at($0) + bar/2):4:(shown($4)) with labels offset 0,0.6 font ",7.5" notitle

set lmargin at screen 0.84
set rmargin at screen 0.99
unset logscale y
set yrange [0:*]
set format y "%.0f"
set ylabel "µs per node" offset 0.5,0
set xlabel "worker threads" offset 0,-0.6
set xrange [-0.6:1.6]
set title "matmul 1024" offset 0,-0.5
plot data_dir."/matmul.dat" using ($0 - bar/2):($2 / 1000):xtic(workers($1)) \
        with boxes lc rgb weft_colour notitle, \
     "" using ($0 + bar/2):($3 / 1000) with boxes lc rgb tbb_colour notitle, \
     "" using ($0 - bar/2):($2 / 1000):(sprintf("%.1f", $2 / 1000)) \
        with labels offset 0,0.6 font ",7" notitle, \
     "" using ($0 + bar/2):($3 / 1000):(sprintf("%.1f", $3 / 1000)) \
        with labels offset 0,0.6 font ",7" notitle

unset multiplot

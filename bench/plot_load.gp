# bench/run's plot of throughput and latency percentiles against offered
# load, node beside nginx. Variables: datafile (columns: offered, then for
# node and for nginx: achieved requests/s, p50, p99, p99.9 in µs), outfile,
# clients (h2load's connections), goal_us (the p99 goal, drawn as a line).
set terminal pngcairo size 1400,520 font "sans,10"
set output outfile
set datafile missing "nan"
set multiplot layout 1,2 title sprintf("One ID per request at fixed offered rates (h2load --h1, %d clients)", clients)
set grid
set key top left
set xlabel "offered load (requests/s)"
set format x "%.0s%c"
set format y "%.0s%c"
set ylabel "achieved (requests/s)"
set title "Throughput"
plot datafile using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "node", \
     datafile using 1:6 with linespoints lw 2 pt 5 lc rgb "#d62728" title "nginx", \
     datafile using 1:1 with lines dt 2 lc rgb "#888888" title "offered"
set title "Latency percentiles"
set key outside right top vertical
set logscale y
set format y "%g"
set ylabel "latency (µs, log scale)"
plot datafile using 1:3 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "node p50", \
     datafile using 1:4 with linespoints lw 2 pt 7 dt 2 lc rgb "#1f77b4" title "node p99", \
     datafile using 1:5 with linespoints lw 1 pt 7 dt 3 lc rgb "#1f77b4" title "node p99.9", \
     datafile using 1:7 with linespoints lw 2 pt 5 lc rgb "#d62728" title "nginx p50", \
     datafile using 1:8 with linespoints lw 2 pt 5 dt 2 lc rgb "#d62728" title "nginx p99", \
     datafile using 1:9 with linespoints lw 1 pt 5 dt 3 lc rgb "#d62728" title "nginx p99.9", \
     goal_us with lines dt 4 lc rgb "#888888" title sprintf("goal: p99 < %g µs", goal_us)
unset multiplot

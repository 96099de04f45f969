# bench/run's bar chart of IDs per second per source (log scale) with the
# node's cap. Variables: datafile ("label"<TAB>IDs/s), outfile, cap.
set terminal pngcairo size 900,480 font "sans,10"
set output outfile
set datafile separator "\t"
set datafile missing "nan"
set title "IDs per second, one run on one machine (log scale)"
set logscale y
set format y "%.0s%c"
set ylabel "IDs/s"
set yrange [1000:*]
set grid ytics
set style fill solid 0.8 border -1
set boxwidth 0.6
set xtics rotate by -20 left nomirror
set key top left
set bmargin 5
plot datafile using 0:2:xtic(1) with boxes lc rgb "#1f77b4" notitle, \
     datafile using 0:($2 * 1.3):(gprintf("%.3s%c", $2)) with labels notitle, \
     cap with lines dt 2 lw 2 lc rgb "#d62728" title sprintf("cap of one node (%s/s)", gprintf("%.3s %c", cap))

# soak.png from samples.csv (scripts/soak):
#   gnuplot -e "csv='samples.csv'; png='soak.png'; title='...'" tests/soak/plot.gp
# Three panels against time: RSS (MiB), open descriptors, threads. The load
# phase is shaded; before it the baseline, after it the cool-down.
set terminal pngcairo size 1200,900 font ",10"
set output png
set datafile separator ","
set key off
set grid
set autoscale xfix
# The load's first and last second, from the phase column.
stats csv using ($0):(strcol(2) eq "load" ? $1 : NaN) nooutput
load_from = STATS_min_y
load_to = STATS_max_y
set object 1 rectangle from load_from, graph 0 to load_to, graph 1 behind fillcolor rgb "#eef3fa" fillstyle solid noborder
set multiplot layout 3,1 title title
set lmargin 12
set ylabel "RSS (MiB)"
set yrange [0:*]
plot csv using 1:($3 / 1024) every ::1 with lines linewidth 2 linecolor rgb "#1f77b4"
set ylabel "open descriptors"
plot csv using 1:4 every ::1 with lines linewidth 1.5 linecolor rgb "#d62728"
set ylabel "threads"
stats csv using 5 every ::1 nooutput
set yrange [0:STATS_max + 2]
set xlabel "seconds (shaded: load and hostile clients)"
plot csv using 1:5 every ::1 with steps linewidth 2 linecolor rgb "#2ca02c"
unset multiplot

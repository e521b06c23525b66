#!/bin/sh
# Business-time arithmetic on one core, without Postfix: bench/calendar-time.c
# built with the router's sources (of this tree, or of the tree given as the
# first argument, to compare with another version), timing calendar_add()
# for 1 h, 2 bh, 3 bd and 40 bh goals, calendar_between() over a day, a
# month and a year, a whole sla_compute() and a plan_calendar() copy, on the
# standard, default and extended plans in Europe/Amsterdam.
#   bench/calendar.sh [SOURCE_TREE]
# Prints one RESULT line per plan, in nanoseconds per call. Target: every
# calendar_add() and a whole sla_compute() a few microseconds at most (the
# line says MISS, and the exit status is 1, past 10 microseconds).
set -u
SRC=${1:-.}
STARTS=${BENCH_STARTS:-2000}
WORK=$(mktemp -d /tmp/tm-bench-calendar.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
TIMER=$WORK/calendar-time
DEFS=
# Older trees computed the Dutch holidays for the years around the load year.
grep -q 'plan_preset(const char \*name, int this_year)' "$SRC/router/plan.h" &&
    DEFS=-DPLAN_PRESET_TAKES_YEAR
# Newer trees keep the zone tables in a file of their own.
ZONE_SRC=
[ -f "$SRC/router/zone.c" ] && ZONE_SRC=$SRC/router/zone.c
cc -std=c11 -O2 -g -D_GNU_SOURCE $DEFS -I"$SRC" $(pkg-config --cflags glib-2.0) -o "$TIMER" \
    bench/calendar-time.c "$SRC/router/calendar.c" $ZONE_SRC "$SRC/router/plan.c" "$SRC/router/sla.c" \
    $(pkg-config --libs glib-2.0) || exit 1
"$TIMER" -n "$STARTS" >"$WORK/out" || exit 1
status=0
for plan in standard default extended; do
    awk -v plan="$plan" '
        $1 == "TIME" && $2 == plan {
            line = line sprintf(" %s %s ns;", $3, $4)
            if (($3 ~ /^add-/ || $3 == "sla-compute") && $4 > 10000) miss = 1
        }
        END {
            sub(/;$/, "", line)
            print "RESULT calendar " plan ":" line (miss ? " MISS" : " ok")
            exit miss
        }' "$WORK/out" || status=1
done
exit $status

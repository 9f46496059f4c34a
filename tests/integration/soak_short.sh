#!/bin/bash
# The fault soak of bench/soak.sh in short (issue 13): 3 broker SIGKILLs,
# 3 hazmond SIGKILLs and 20 device faults in random order over 100 s,
# 50 flapping sensors on 4 TCP buses and one RTU bus; an independent paho
# subscriber with a persistent session must see every recorded seq, no
# gap, duplicates only as identical events, latched alarms still latched,
# RSS and fds flat.  Needs python3-paho-mqtt and socat.
. "$top_srcdir/tests/lib.sh"
SOAK_SOURCED=1
SOAK_DURATION=${SOAK_DURATION:-100}
SOAK_BROKER_KILLS=${SOAK_BROKER_KILLS:-3}
SOAK_HAZMOND_KILLS=${SOAK_HAZMOND_KILLS:-3}
SOAK_FAULTS=${SOAK_FAULTS:-20}
SOAK_SAMPLE=1
SOAK_RESULTS=
. "$top_srcdir/bench/soak.sh"

#!/bin/sh
# Runs its arguments (node /app/bin/lab.js server ...) once the runtime has installed this node's iptables rules. The runtime writes
# /run/raftlab/ready after applying them; /run/raftlab is a tmpfs, so it is empty on every (re)start
# and a restarted node never talks to a peer before the partition in force is back in place.
waited=0
while [ ! -e /run/raftlab/ready ]; do
  waited=$((waited + 1))
  if [ "$waited" -gt 600 ]; then
    echo "raftlab-entrypoint: the runtime did not signal ready within 60 s" >&2
    exit 1
  fi
  sleep 0.1
done
exec "$@"

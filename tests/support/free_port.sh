# shellcheck shell=bash
# free_port: a TCP port on 127.0.0.1 that nothing listens on, for a test that
# must name its port in advance (a hostPort, a published port, OPS_PORT).
# Defines functions only; the caller's errexit and traps are left alone.
#
# It is drawn below the kernel's ephemeral range (ip_local_port_range,
# 32768-60999 by default): a port inside that range can be taken, between the
# pick and the bind, as the local end of any parallel test's outgoing
# connection, and the bind then fails with "address already in use" (CI saw
# it: podman kube play on 127.0.0.1:33960). Prints nothing and returns 1 when
# 100 draws found none.
free_port() {
  local low=32768 high=60999 first=20000 last port
  read -r low high </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  if [ "$low" -gt $((first + 1000)) ]; then
    last=$((low - 1))
  elif [ "$high" -lt 64535 ]; then
    first=$((high + 1)) last=65535
  else
    last=40000 # no room outside the range: the old draw
  fi
  for _ in $(seq 1 100); do
    port=$((first + RANDOM % (last - first + 1)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

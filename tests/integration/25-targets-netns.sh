#!/bin/bash
# Capture where the workload lives. The daemon runs in the host's own
# namespace; the test makes two namespaces each with an interface named
# eth0 (a veth to the host), traffic in each, and captures by
# target.netns, target.pid (a process in the namespace) and
# target.container (a process moved into a cgroup named as Docker's and
# containerd's are): each holds exactly its namespace's traffic. A
# namespace deleted mid-capture ends that capture in Error (CaptureFailed)
# while the daemon and the others go on; unknown targets are 400 naming
# the field; GET /v1/interfaces?netns= and alertcap interfaces list a
# namespace's interfaces; a rule turns a container-labelled alert into a
# capture inside that container.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip jq curl ping capinfos

id=$$
NX=acx-x-$id NY=acx-y-$id NZ=acx-z-$id
# ns_eth0 NS N: NS with eth0 (10.78.N.2) joined to hx-N on the host.
ns_eth0() {
	ip netns add "$1" || return 1
	T_NETNS+=("$1")
	ip link add "hx$2-$id" type veth peer name eth0 netns "$1" || return 1
	ip addr add "10.78.$2.1/24" dev "hx$2-$id"
	ip link set "hx$2-$id" up
	ip -n "$1" addr add "10.78.$2.2/24" dev eth0
	ip -n "$1" link set eth0 up
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=1
	sysctl -qw "net.ipv6.conf.hx$2-$id.disable_ipv6=1"
}
ns_eth0 "$NX" 1 && ns_eth0 "$NY" 2 && ns_eth0 "$NZ" 3 ||
    skip_all "cannot create network namespaces"
# pings NS N COUNT: COUNT echo requests from NS to the host side.
pings() { ip netns exec "$1" ping -q -c "$3" -i 0.01 "10.78.$2.1" >/dev/null 2>&1; }
icmp() { capinfos -M -c -r -T "$(local_file "$1")" 2>/dev/null | cut -f2; }

# Processes living in the namespaces, and the cgroups of two containers.
ip netns exec "$NX" sleep 300 & PX=$!; T_PIDS+=("$PX")
ip netns exec "$NY" sleep 300 & PY=$!; T_PIDS+=("$PY")
CG=/sys/fs/cgroup
[ -d "$CG/unified" ] && CG=$CG/unified	# cgroup v2 beside v1 (hybrid)
CX=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
CY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
DX=$CG/acx-$id.slice/docker-$CX.scope
DY=$CG/acx-$id.slice/kubepods/cri-containerd-$CY.scope
cg_cleanup() {	# the processes are gone by now: the cgroups are empty
	rmdir "$DX" "$DY" "$CG/acx-$id.slice/kubepods" "$CG/acx-$id.slice" 2>/dev/null
	return 0
}
T_AT_EXIT+=(cg_cleanup)
mkdir -p "$DX" "$DY" && echo "$PX" > "$DX/cgroup.procs" && echo "$PY" > "$DY/cgroup.procs" ||
    skip_all "cannot make cgroups under $CG"

mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/container.json" <<'JSON'
{"name": "container-drops", "match": {"alert": "ContainerNetworkDrops"},
 "capture": {"name": "ctr-${labels.pod}", "target": {"container": "${labels.container_id}"},
             "time_limit_s": 60, "bpf": "icmp"}}
JSON
start_daemon tg "" "\"rules\": {\"dir\": \"$T_DIR/rules\"}" || exit 1

# put NAME TARGET-JSON -> status
put() { api PUT "/v1/captures/$1" "{\"target\": $2, \"bpf\": \"icmp\", \"time_limit_s\": 60}" | cut -d' ' -f1; }
is "$(put bynetns "{\"netns\": \"$NX\"}")" 201 "target.netns (interface eth0 by default)"
is "$(put other "{\"netns\": \"$NY\", \"interface\": \"eth0\"}")" 201 "the same-named eth0 in another namespace"
is "$(put bypid "{\"pid\": $PX}")" 201 "target.pid: a process in the namespace"
is "$(put bydocker "{\"container\": \"${CX:0:12}\"}")" 201 "target.container: a Docker id's 12-digit prefix"
is "$(put bycri "{\"container\": \"$DY\"}")" 201 "target.container: a containerd scope's cgroup path"
is "$(put host '{"interface": "lo"}')" 201 "and one on the host's lo"
pings "$NX" 1 7
pings "$NY" 2 4
ping -q -c 3 -i 0.01 127.0.0.1 >/dev/null
sleep 0.3
for n in bynetns other bypid bydocker bycri host; do api POST "/v1/captures/$n/stop" >/dev/null; done
is "$(icmp bynetns)" 14 "netns: exactly its namespace's 7 requests and replies"
is "$(icmp other)" 8 "the other namespace's eth0: its own 4, independent"
is "$(icmp bypid)" 14 "pid: the same namespace"
is "$(icmp bydocker)" 14 "container (Docker layout): the container's namespace"
is "$(icmp bycri)" 8 "container (containerd layout)"
is "$(icmp host)" 6 "the host's lo holds none of theirs"
r=$(record bydocker)
is "$(field "$r" .resolved.container)" "$CX" "the record names the full container id"
is "$(field "$r" .resolved.pid)" "$PX" "the process it was found by"
is "$(field "$r" .resolved.netns.inode)" "$(stat -Lc %i "/run/netns/$NX")" "and the namespace's inode"
is "$(field "$r" .resolved.ifindex)" "$(ip netns exec "$NX" cat /sys/class/net/eth0/ifindex 2>/dev/null || ip -n "$NX" -j link show eth0 | jq '.[0].ifindex')" "and eth0's index there"
is "$(field "$(record bynetns)" .resolved.netns.path)" "/run/netns/$NX" "netns: the path it resolved"

# Unknown targets: 400 naming the field.
bad() { refused "{\"target\": $1}" "$2" "$3"; }	# bad TARGET-JSON WANT WHAT
bad '{"netns": "no-such-ns"}' "target.netns: /run/netns/no-such-ns" "an unknown netns"
bad '{"netns": "a/b"}' "target.netns: a name under /run/netns or an absolute path" "a netns name with a slash"
bad '{"netns": "/etc/passwd"}' "target.netns: /etc/passwd: not a network namespace" "a path that is no namespace"
bad '{"pid": 4194304}' "target.pid: no process 4194304" "an unknown pid"
bad '{"pid": 0}' "target.pid: must be a process id" "pid 0"
bad '{"container": "0123456789abcdef0123"}' "target.container: 0123456789abcdef0123: no process" "an unknown container"
bad '{"container": "abc"}' "target.container: must be a container id (12 to 64 hex digits)" "a short container id"
bad "{\"netns\": \"$NX\", \"pid\": $PX}" "target: name one of netns, pid and container" "two namespaces at once"
bad "{\"netns\": \"$NX\", \"interface\": \"eth9\"}" "target.interface: eth9: no such interface in namespace" "an interface the namespace lacks"

# A namespace's interfaces.
l=$(api GET "/v1/interfaces?netns=$NX" | cut -d' ' -f2-)
is "$(field "$l" '[.interfaces[] | select(.name == "eth0") | .addresses[0]] | .[0]')" 10.78.1.2 "GET /v1/interfaces?netns: eth0 and its address"
is "$(field "$(api GET "/v1/interfaces?container=${CY:0:16}" | cut -d' ' -f2-)" '[.interfaces[].name] | sort | join(",")')" "eth0,lo" "?container: that container's interfaces"
like "$(cd "$DDIR" && "$ALERTCAP" -u "$URL" interfaces --pid "$PX")" "10.78.1.2" "alertcap interfaces --pid"
is "$(api GET '/v1/interfaces?pid=x' | cut -d' ' -f1)" 400 "?pid=x: 400"

# The namespace's context at start and stop: links, addresses, sockets.
ip netns exec "$NX" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.78.1.2", 7777)); s.listen()
c = socket.create_connection(("10.78.1.2", 7777)); a, _ = s.accept()
c.send(b"x" * 3000); time.sleep(30)' &
T_PIDS+=("$!")
sleep 0.5
is "$(api PUT /v1/captures/ctx "{\"target\": {\"netns\": \"$NX\"}, \"context\": true, \"time_limit_s\": 60}" | cut -d' ' -f1)" 201 "a capture with context"
sleep 0.5
api POST /v1/captures/ctx/stop >/dev/null
for _ in $(seq 50); do [ "$(field "$(record ctx)" .snapshots.stop.links)" != null ] && break; sleep 0.1; done
rc=$(record ctx)
cf=$(field "$rc" .snapshots.path)
cj=$DDIR/captures/$cf
ok "$([ -s "$cj" ] && [[ $cf == ctx_*.context.json ]]; echo $?)" "the context file sits beside the capture ($cf)"
is "$(jq -r '[.start.links[].name] | sort | join(",")' "$cj")" "eth0,lo" "start: the namespace's links"
is "$(jq -r '[.start.addresses[] | select(.address == "10.78.1.2")] | length' "$cj")" 1 "and its address"
is "$(jq -r '[.start.tcp[] | select(.local == "10.78.1.2:7777" and .state == "ESTABLISHED")] | length' "$cj")" 1 "and the TCP connection the test opened, ESTABLISHED"
is "$(jq -r '[.start.tcp[] | select(.state == "LISTEN")][0].local' "$cj")" 10.78.1.2:7777 "and its listener"
ok "$(jq -e '.stop.links | length > 0' "$cj" >/dev/null; echo $?)" "a snapshot at stop too"
is "$(field "$rc" .snapshots.start.tcp)" "$(jq '.start.tcp | length' "$cj")" "the record counts what each snapshot holds"
ok "$(jq -e '.start.links[] | select(.name == "eth0") | .stats.rx_packets >= 0' "$cj" >/dev/null; echo $?)" "links carry their counters"
# And the file's section comment sums the start's context up.
comment=$(capinfos -k "$(local_file ctx)" | sed -n '/^Capture comment/,$p')
like "$comment" "context at start: 2 links, " "the section comment sums the start's context up"
like "$comment" "($cf holds them, and the stop's)" "and names the context file"
like "$comment" "eth0 up 10.78.1.2/24" "with the links and their addresses"
like "$comment" "busiest TCP: 10.78.1.2:7777 > 10.78.1.2:" "and the busiest TCP connection"
like "$comment" " ESTABLISHED, rtt " "with its state and round trip"

# A container-labelled alert captures inside that container.
alert() {	# alert CONTAINER-ID POD
	api POST /v1/alerts/alertmanager "{\"version\": \"4\", \"status\": \"firing\", \"alerts\": [{\"status\": \"firing\",
	  \"labels\": {\"alertname\": \"ContainerNetworkDrops\", \"pod\": \"$2\", \"container_id\": \"$1\"},
	  \"startsAt\": \"2026-12-01T00:00:00Z\", \"fingerprint\": \"$2\"}]}"
}
alert "containerd://$CY" web-1 >/dev/null
wait_status ctr-web-1 Running 5
pings "$NY" 2 5
sleep 0.3
api POST /v1/captures/ctr-web-1/stop >/dev/null
is "$(icmp ctr-web-1)" 10 "the alert's capture holds the container's traffic"
is "$(field "$(record ctr-web-1)" .resolved.container)" "$CY" "in the container the label named"
is "$(field "$(record ctr-web-1)" .context)" true "an alert's capture records its context by default"
r=$(alert "not-a-container" web-2)
like "$r" "target.container: must be a container id" "a bad label: the outcome says why"
is "$(api GET /v1/captures/ctr-web-2 | cut -d' ' -f1)" 404 "and nothing started"

# The namespace goes mid-capture: that capture fails, the rest go on.
is "$(put doomed "{\"netns\": \"$NZ\"}")" 201 "a capture in a third namespace"
is "$(put survivor "{\"netns\": \"$NX\"}")" 201 "and one in the first"
ip netns del "$NZ"
wait_status doomed Error 5
rd=$(record doomed)
is "$(field "$rd" .status)" Error "deleting its namespace ends the capture in Error"
is "$(field "$rd" '.errors[0].code')" CaptureFailed "with CaptureFailed"
like "$(field "$rd" '.errors[0].message')" "namespace is gone" "saying the namespace is gone"
pings "$NX" 1 3
sleep 0.3
is "$(field "$(record survivor)" .status)" Running "the other capture goes on"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200 "and the daemon"
api POST /v1/captures/survivor/stop >/dev/null
is "$(icmp survivor)" 6 "with its packets"
done_testing

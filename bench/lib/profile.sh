# shellcheck shell=bash
# Profiles for bench/run, in every run: instructions per
# request of the node and of nginx under the same one-ID-per-request load
# (valgrind's callgrind: perf's hardware counters are not available in most
# VMs), system calls per request (strace -c), and the report's section on
# them. Sourced, never run.

# The profiles run in every run: the instructions per request of the node
# beside nginx's are figures of the report whatever the goals say.
run_profile() {
  local missed
  missed=$(goals_missed | tr '\n' ' ')
  log "goals missed: ${missed:-none}; profiling (callgrind, strace)"
  mkdir -p "$WORK/profile"
  local perf_out
  perf_out=$(perf stat -e instructions true 2>&1) || perf_out="not supported"
  if [[ $perf_out == *"not supported"* ]]; then
    echo "\`perf stat -e instructions\` is not available on this machine (no perf, or no hardware counters in this VM)" >"$WORK/profile/perf"
  else
    echo "\`perf stat -e instructions\` works here, but callgrind is used all the same (exact and repeatable)" >"$WORK/profile/perf"
  fi
  profile_callgrind node
  profile_callgrind nginx
  profile_strace
}

# profile_callgrind node|nginx: Ir per request under wrk's one-ID load,
# counted from the end of start-up (callgrind_control --zero) to the end
# of the load (--dump).
profile_callgrind() {
  local server=$1 dir="$WORK/profile" port pid out
  free_port port
  local pin
  pin=$(pin_prefix "$SERVER_CPUS")
  local cg=(valgrind --tool=callgrind "--callgrind-out-file=$dir/$server.cg")
  if [[ $server == node ]]; then
    # shellcheck disable=SC2046,SC2086
    $pin "${cg[@]}" "$SNOWFLAKED" --listen "127.0.0.1:$port" \
      --state-dir "$dir/node-state" $(pinned_threads) >"$dir/$server.log" 2>&1 &
    pid=$!
    register_pid "$pid" TERM callgrind-node
    wait_http "$port" /readyz "$pid" 120 || die "node under callgrind did not start"
    note_command "callgrind node" "$pin ${cg[*]} $SNOWFLAKED --listen 127.0.0.1:$port --state-dir ... $(pinned_threads)"
  else
    write_nginx_conf "$dir/nginx" "$port" 1 off
    # shellcheck disable=SC2086
    $pin "${cg[@]}" nginx -p "$dir/nginx" -e "$dir/nginx/error.log" \
      -c "$dir/nginx/nginx.conf" >"$dir/$server.log" 2>&1 &
    pid=$!
    register_pid "$pid" QUIT callgrind-nginx
    wait_http "$port" / "$pid" 120 || die "nginx under callgrind did not start"
    note_command "callgrind nginx" "$pin ${cg[*]} nginx ...   # master_process off: one process"
  fi
  callgrind_control --zero "$pid" >/dev/null 2>&1
  run_wrk "profile.$server" "$port" /v1/id "$PROFILE_SECONDS" 1
  callgrind_control --dump "$pid" >/dev/null 2>&1
  stop_registered "$pid"
  out=$(find "$dir" -maxdepth 1 -name "$server.cg.*" | sort | head -1)
  [[ -n $out ]] || {
    log "callgrind wrote no dump for $server"
    return 0
  }
  callgrind_annotate --inclusive=no --threshold=100 --auto=no "$out" \
    >"$dir/$server.annotate" 2>/dev/null || true
  local total requests
  total=$(awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}' "$dir/$server.annotate")
  requests=$(med "profile.$server.requests")
  sample "profile.$server.ir_per_request" "$(calc "${total:-0} / ($requests > 0 ? $requests : 1)")"
  # Self cost by family (the stack frames that were live at --zero show
  # their whole inclusive cost here: those above 90 % are left out).
  awk '
    /^ *[0-9,]+ \( *[0-9.]+%\)  / {
      ir = $1; gsub(",", "", ir); pct = $2 $3; gsub(/[()%]/, "", pct)
      if (pct + 0 >= 90) next
      name = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\)  /, "", name)
      fam = "other"
      if (name ~ /boost::beast/) fam = "Boost.Beast (HTTP parser, serializer, buffer sequences)"
      else if (name ~ /boost::asio/) fam = "Boost.Asio (executors, strands, reactor, timers)"
      else if (name ~ /malloc|free|operator new|operator delete|_int_|realloc|calloc/) fam = "malloc and free"
      else if (name ~ /pthread_mutex|__lll_lock|futex/) fam = "mutexes"
      else if (name ~ /std::_Sp_counted|shared_ptr/) fam = "shared_ptr reference counts"
      else if (name ~ /snowflake::/) fam = "snowflake code (handler, generator, metrics)"
      else if (name ~ /ngx_|\[\/usr\/sbin\/nginx\]/) fam = "nginx code"
      else if (name ~ /mem(cpy|set|move|cmp)|str[a-z]*\(|__(mem|str)/) fam = "libc string functions"
      else if (name ~ /syscall|sendmsg|recvmsg|writev|recv|send|epoll|__libc_/) fam = "system call wrappers"
      sum[fam] += ir
    }
    END { for (f in sum) printf "%.0f\t%s\n", sum[f], f }' "$dir/$server.annotate" |
    sort -rn >"$dir/$server.families"
  # The heaviest functions, template arguments and parameters elided.
  awk '/^ *[0-9,]+ \( *[0-9.]+%\)  / {
      pct = $2 $3; gsub(/[()%]/, "", pct); if (pct + 0 >= 90) next
      name = $0; sub(/^ *[0-9,]+ \( *[0-9.]+%\)  /, "", name)
      sub(/ \[[^]]*\]$/, "", name); sub(/^[^:]*:/, "", name)
      while (gsub(/<[^<>]*>/, "\001", name)) {}
      gsub("\001", "<…>", name)
      while (gsub(/\([^()]*\)/, "\002", name)) {}
      gsub("\002", "()", name)
      printf "%s\t%s\n", pct, name
      if (++n == 12) exit
    }' "$dir/$server.annotate" >"$dir/$server.top"
  rm -f "$dir/$server.cg"*
}

# profile_strace: system calls per request, node and nginx, at full speed.
profile_strace() {
  local dir="$WORK/profile" server pid spid
  for server in node nginx; do
    if [[ $server == node ]]; then
      # shellcheck disable=SC2046
      start_node strace_node "$SERVER_CPUS" $(pinned_threads)
      pid=$STRACE_NODE_PID
      local port=$STRACE_NODE_PORT target=$STRACE_NODE_PID
    else
      start_nginx strace_nginx "$SERVER_CPUS" 1
      pid=$STRACE_NGINX_PID
      local port=$STRACE_NGINX_PORT
      target=$(ps -o pid= --ppid "$pid" | head -1 | tr -d ' ')
    fi
    strace -f -c -o "$dir/$server.strace" -p "$target" 2>/dev/null &
    spid=$!
    register_pid "$spid" INT "strace-$server"
    sleep 0.3
    run_wrk "strace.$server" "$port" /v1/id "$PROFILE_SECONDS" 1
    stop_registered "$spid"
    stop_registered "$pid"
    note_command "strace $server" "strace -f -c -p <$server worker pid>   # during: wrk -t1 -c$CONNECTIONS /v1/id"
    local requests
    requests=$(med "strace.$server.requests")
    awk -v n="$requests" '
      $1 ~ /^[0-9.]+$/ && NF >= 5 {
        calls = $4; name = $NF
        if (name == "total") next
        if (name == "futex" || name == "restart_syscall") next # idle threads
        total += calls; per[name] = calls
      }
      END {
        printf "total\t%.2f\n", total / (n > 0 ? n : 1)
        for (s in per) if (per[s] / n >= 0.01) printf "%s\t%.2f\n", s, per[s] / n
      }' "$dir/$server.strace" | sort -t$'\t' -k2 -rn >"$dir/$server.syscalls"
    sample "profile.$server.syscalls_per_request" "$(awk -F'\t' '$1 == "total" {print $2}' "$dir/$server.syscalls")"
  done
}

# --- the profile's section of the report (report.sh) --------------------------

# write_profile_section: the section, if the profile was taken; every
# figure in it recorded (see report.sh).
write_profile_section() {
  local dir="$WORK/profile"
  [[ -d $dir ]] || return 0
  record "$(cat "$dir/perf" 2>/dev/null)"
  cat <<EOF
## Profile of one ID per request

$(goals_summary) $(profile_reason)
$(cat "$dir/perf" 2>/dev/null); the profile counts instructions with
valgrind's callgrind: both servers, pinned as above, under the same
one-ID-per-request wrk load ($CONNECTIONS connections, $PROFILE_SECONDS s), counted from
the end of start-up (\`callgrind_control --zero\`) to the end of the load.
Instruction counts do not depend on what else the machine is doing. System
calls come from \`strace -c\` on the running servers (at full speed, under
the same load).

| per request | node | nginx | node/nginx |
|---|---|---|---|
| instructions (user space) | $(fmt int "$(med profile.node.ir_per_request)") | $(fmt int "$(med profile.nginx.ir_per_request)") | **$(fmt x "$(ratio "$(med profile.node.ir_per_request)" "$(med profile.nginx.ir_per_request)")")** |
| system calls | $(fmt raw "$(med profile.node.syscalls_per_request)") | $(fmt raw "$(med profile.nginx.syscalls_per_request)") | $(fmt x "$(ratio "$(med profile.node.syscalls_per_request)" "$(med profile.nginx.syscalls_per_request)")") |

System calls per request, by call: node $(syscalls_text node); nginx $(syscalls_text nginx).

Where the node's instructions go (self cost, grouped), beside nginx's:

| share of instructions | node | nginx |
|---|---|---|
EOF
  local fam
  {
    cut -f2 "$dir/node.families" 2>/dev/null
    cut -f2 "$dir/nginx.families" 2>/dev/null
  } | awk '!seen[$0]++' | while IFS= read -r fam; do
    echo "| $fam | $(family_share node "$fam") | $(family_share nginx "$fam") |"
  done
  cat <<EOF

The node's heaviest functions (self cost; template arguments elided):

| share | function |
|---|---|
EOF
  awk -F'\t' '{gsub(/\|/, "\\|", $2); printf "| %s %% | `%s` |\n", $1, $2}' "$dir/node.top" 2>/dev/null |
    tee -a "$WORK/report.values"
  echo
}

# profile_reason: the profile is taken in every run; which goals marked for
# it in GOALS this run missed, if any.
profile_reason() {
  local name labels="" out="The profile below is taken in every run."
  while read -r name; do
    [[ $(goal_field "$name" profile) == profile ]] || continue
    labels+="${labels:+; }$(goal_label "$name")"
  done < <(goals_missed)
  [[ -z $labels ]] || out+=" Of the goals it explains, this run missed: $labels."
  record "$out"
  echo "$out"
}

syscalls_text() {
  local out
  out=$(awk -F'\t' '$1 != "total" {printf "%s%s %s", (n++ ? ", " : ""), $1, $2}' \
    "$WORK/profile/$1.syscalls" 2>/dev/null)
  record "$out"
  printf '%s\n' "$out"
}

family_share() {
  local out
  out=$(awk -F'\t' -v f="$2" '{t += $1; if ($2 == f) v = $1}
    END {if (t > 0 && v > 0) printf "%.1f %%", 100 * v / t; else print "-"}' \
    "$WORK/profile/$1.families" 2>/dev/null)
  record "$out"
  printf '%s\n' "$out"
}

# shellcheck shell=bash
# The servers bench/run measures, each started by bench/run itself on a free
# 127.0.0.1 port with its files in $WORK, registered so that cleanup stops
# it by PID. Sourced, never run.
#
# Each start_* function sets <NAME>_PORT and <NAME>_PID (NAME upper-cased,
# given by the caller) and takes a CPU list to pin to ("" for none).

# pin_prefix CPUS: the command prefix that pins to CPUS, or nothing.
pin_prefix() {
  if [[ -n $1 ]]; then printf 'taskset -c %s' "$1"; fi
}

# start_node NAME CPUS [snowflaked flags...]: the node with its defaults
# plus the given flags, in static mode with a state directory of its own.
start_node() {
  local name=$1 cpus=$2 port pid pin
  shift 2
  free_port port
  mkdir -p "$WORK/$name"
  pin=$(pin_prefix "$cpus")
  # shellcheck disable=SC2086
  $pin "$SNOWFLAKED" --listen "127.0.0.1:$port" \
    --state-dir "$WORK/$name/state" "$@" >>"$WORK/$name/log" 2>&1 &
  pid=$!
  register_pid "$pid" TERM "$name"
  wait_http "$port" /readyz "$pid" ||
    die "$name did not become ready; its log: $(tail -5 "$WORK/$name/log")"
  printf -v "${name^^}_PORT" %s "$port"
  printf -v "${name^^}_PID" %s "$pid"
  note_command "node ($name)" "$pin $SNOWFLAKED --listen 127.0.0.1:$port --state-dir $WORK/$name/state $*"
}

# write_nginx_conf DIR PORT WORKERS MASTER(on|off): a minimal nginx that
# answers every request with 200 and $NGINX_BODY (the node's /v1/id body),
# but /bin/NAME with the file DIR/www/bin/NAME.
write_nginx_conf() {
  local dir=$1 port=$2 workers=$3 master=$4
  mkdir -p "$dir/tmp"
  # nginx's quoted strings take \n as a newline.
  local body=${NGINX_BODY//\\/\\\\}
  body=${body//\'/\\\'}
  cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
master_process $master;
daemon off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000000;
  server {
    listen 127.0.0.1:$port;
    location / {
      default_type application/json;
      return 200 '$body\n';
    }
    # Section 10: files of the node's own batch answers (DIR/www/bin).
    location /bin/ {
      root $dir/www;
      default_type application/octet-stream;
    }
  }
}
EOF
}

# start_nginx NAME CPUS WORKERS
start_nginx() {
  local name=$1 cpus=$2 workers=$3 port pid pin dir="$WORK/$1"
  free_port port
  write_nginx_conf "$dir" "$port" "$workers" on
  pin=$(pin_prefix "$cpus")
  # shellcheck disable=SC2086
  $pin nginx -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
    >>"$dir/log" 2>&1 &
  pid=$!
  register_pid "$pid" QUIT "$name"
  wait_http "$port" / "$pid" ||
    die "$name did not start; its log: $(tail -5 "$dir/error.log" "$dir/log")"
  printf -v "${name^^}_PORT" %s "$port"
  printf -v "${name^^}_PID" %s "$pid"
  note_command "nginx ($name)" "$pin nginx -p $dir -e $dir/error.log -c $dir/nginx.conf   # worker_processes $workers; return 200 with the node's body"
}

# start_redis NAME CPUS: redis-server without persistence.
start_redis() {
  local name=$1 cpus=$2 port pid pin dir="$WORK/$1" i
  free_port port
  mkdir -p "$dir"
  pin=$(pin_prefix "$cpus")
  local args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no
    --dir "$dir" --logfile "$dir/log" --daemonize no)
  # shellcheck disable=SC2086
  $pin redis-server "${args[@]}" >/dev/null 2>&1 &
  pid=$!
  register_pid "$pid" TERM "$name"
  for ((i = 0; i < 200; i++)); do
    [[ $(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null) == PONG ]] && break
    alive "$pid" || die "$name died: $(tail -5 "$dir/log")"
    sleep 0.05
  done
  printf -v "${name^^}_PORT" %s "$port"
  printf -v "${name^^}_PID" %s "$pid"
  note_command "redis ($name)" "$pin redis-server --port $port --bind 127.0.0.1 --save '' --appendonly no --dir $dir --daemonize no"
}

# start_postgres NAME CPUS: a fresh cluster (initdb) with its default
# settings, listening on 127.0.0.1 and on a socket in $WORK; as the
# `postgres` user when run as root (the server refuses to run as root).
start_postgres() {
  local name=$1 cpus=$2 port pid pin dir="$WORK/$1" bindir as=()
  bindir=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null |
    sort -V | tail -1)
  [[ -x $bindir/initdb ]] || die "PostgreSQL's initdb not found"
  free_port port
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    id -u postgres >/dev/null 2>&1 || die "user postgres missing (package postgresql)"
    chown postgres: "$dir"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
    --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -5 "$dir/initdb.log")"
  pin=$(pin_prefix "$cpus")
  # shellcheck disable=SC2086
  "${as[@]}" $pin "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1" start \
    >"$dir/pg_ctl.log" 2>&1 || die "postgres did not start: $(tail -5 "$dir/log")"
  pid=$(head -1 "$dir/data/postmaster.pid")
  register_pid "$pid" INT "$name" # SIGINT: fast shutdown.
  psql -h 127.0.0.1 -p "$port" -U postgres -d postgres -qAt \
    -c 'CREATE SEQUENCE s' >/dev/null || die "CREATE SEQUENCE failed"
  printf -v "${name^^}_PORT" %s "$port"
  printf -v "${name^^}_PID" %s "$pid"
  printf -v "${name^^}_BINDIR" %s "$bindir"
  note_command "postgres ($name)" "${as[*]} $bindir/initdb -D $dir/data -U postgres --auth=trust --no-sync -E UTF8; ${as[*]} $pin $bindir/pg_ctl -D $dir/data -w -o '-p $port -k $dir -c listen_addresses=127.0.0.1' start; psql -c 'CREATE SEQUENCE s'"
}

# rss_kb PID FIELD: VmHWM or VmRSS of a process in kB.
rss_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }

# start_grpc_baseline NAME CPUS ID WORKER_ID FIRST_TICK LAST_TICK: the
# gRPC baseline of section 9 (bench/lib/grpc_baseline.cc), answering every
# NextIds with the reply given (the node's own, from `grpc_load once`).
start_grpc_baseline() {
  local name=$1 cpus=$2 port pid pin dir="$WORK/$1" i
  shift 2
  free_port port
  mkdir -p "$dir"
  pin=$(pin_prefix "$cpus")
  # shellcheck disable=SC2086
  $pin "$GRPC_BASELINE_BIN" "127.0.0.1:$port" "$@" >"$dir/log" 2>&1 &
  pid=$!
  register_pid "$pid" TERM "$name"
  for ((i = 0; i < 3000; i++)); do
    grep -q '^listening ' "$dir/log" 2>/dev/null && break
    alive "$pid" || die "$name died: $(tail -5 "$dir/log")"
    nap 0.01
  done
  grep -q '^listening ' "$dir/log" || die "$name did not listen: $(tail -5 "$dir/log")"
  printf -v "${name^^}_PORT" %s "$port"
  printf -v "${name^^}_PID" %s "$pid"
  note_command "gRPC baseline ($name)" "$pin $GRPC_BASELINE_BIN 127.0.0.1:$port $*   # ID WORKER_ID FIRST_TICK LAST_TICK: the node's reply to NextIds(1)"
}

# Shared shell helpers for the client-matrix drivers (sourced, not executed).
# Callers set HOOP_CLIENTS_DIR to t/clients before sourcing.

: "${HOOP_CLIENTS_DIR:?HOOP_CLIENTS_DIR must be set before sourcing common.sh}"
HOOP_REPO_ROOT=$(cd "$HOOP_CLIENTS_DIR/../.." && pwd)
# Everything built or installed goes here (git-ignored via /.cache/).
: "${HOOP_CLIENTS_CACHE:=$HOOP_REPO_ROOT/.cache/clients}"
export HOOP_CLIENTS_CACHE

hoop_log() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
hoop_die() { hoop_log "$*"; exit 1; }

# hoop_apt_need PKG...: install the Debian packages that are missing (setup scripts only).
hoop_apt_need() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null || hoop_die "missing packages ${missing[*]} and no apt-get"
    local sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    hoop_log "installing ${missing[*]}"
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; then
        $sudo apt-get update -q >&2 &&
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
            hoop_die "apt-get install ${missing[*]} failed"
    fi
}

# hoop_exec CMD...: run the driver. When HOOP_CLIENT_CONNECTIONS=FILE is set (the run scripts
# also accept --connections-file FILE), the driver runs under strace and FILE receives every
# TCP/UDP address it called connect() on, one "host:port" a line (IPv4-mapped IPv6 shown as
# IPv4, other IPv6 as [addr]:port; DNS port 53 and unix sockets left out). This is the kernel's
# view, independent of what the client library chooses to log.
hoop_exec() {
    if [ -z "${HOOP_CLIENT_CONNECTIONS:-}" ]; then
        exec "$@"
    fi
    command -v strace >/dev/null || hoop_die "HOOP_CLIENT_CONNECTIONS needs strace (apt-get install strace)"
    local raw rc
    raw=$(mktemp "${TMPDIR:-/tmp}/hoop-connect.XXXXXX")
    rc=0
    strace -f -qq --seccomp-bpf -e trace=connect -e signal=none -o "$raw" "$@" || rc=$?
    sed -n \
        -e 's/.*sa_family=AF_INET, sin_port=htons(\([0-9]*\)), sin_addr=inet_addr("\([^"]*\)").*/\2:\1/p' \
        -e 's/.*sa_family=AF_INET6, sin6_port=htons(\([0-9]*\)),.*inet_pton(AF_INET6, "::ffff:\([0-9.]*\)".*/\2:\1/p' \
        -e 's/.*sa_family=AF_INET6, sin6_port=htons(\([0-9]*\)),.*inet_pton(AF_INET6, "\([^"]*\)".*/[\2]:\1/p' \
        "$raw" | grep -v ':53$' | awk '!seen[$0]++' > "$HOOP_CLIENT_CONNECTIONS"
    rm -f "$raw"
    return $rc
}

# hoop_split_args ARGS...: strip the wrapper-level options (--connections-file FILE) from the
# arguments; the rest is left in the array HOOP_ARGS.
hoop_split_args() {
    HOOP_ARGS=()
    while [ $# -gt 0 ]; do
        case $1 in
            --connections-file) [ $# -ge 2 ] || hoop_die "--connections-file needs a value"
                                export HOOP_CLIENT_CONNECTIONS=$2; shift 2 ;;
            --connections-file=*) export HOOP_CLIENT_CONNECTIONS=${1#*=}; shift ;;
            *) HOOP_ARGS+=("$1"); shift ;;
        esac
    done
}

# hoop_stamp_ok STAMPFILE INPUT...: true when STAMPFILE holds the hash of the INPUT files.
hoop_inputs_hash() { cat "$@" | sha256sum | cut -d' ' -f1; }
hoop_stamp_ok() {
    local stamp=$1; shift
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(hoop_inputs_hash "$@")" ]
}
hoop_stamp_write() {
    local stamp=$1; shift
    hoop_inputs_hash "$@" > "$stamp"
}

# hoop_lock NAME: serialize concurrent builds/setups of one driver (held until the script exits).
hoop_lock() {
    mkdir -p "$HOOP_CLIENTS_CACHE"
    exec 9> "$HOOP_CLIENTS_CACHE/.$1.lock"
    flock 9
}

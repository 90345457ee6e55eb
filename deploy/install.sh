#!/usr/bin/env bash
# Install smsgw as a systemd service on a Raspberry Pi (or any Debian-like systemd Linux):
#   - a virtualenv in /opt/smsgw with smsgw installed from this checkout,
#   - a system user `smsgw` in group `dialout`,
#   - /etc/systemd/system/smsgw.service, /etc/udev/rules.d/99-smsgw.rules,
#   - /etc/smsgw/smsgw.toml from deploy/smsgw.example.toml (an existing one is never touched).
# Safe to run again (upgrades smsgw, refreshes unit and rules, keeps config and data).
# Ends with a warning and the exact step when the config names a port this version reaches
# only after a local step: /dev/smsgw/sim800 (a udev rule marking the board) or a built-in
# UART such as /dev/ttyAMA0 (a DeviceAllow= drop-in).
#
# Usage: sudo deploy/install.sh [options]
#   --dry-run        print what would be done, change nothing
#   --destdir DIR    install into DIR instead of / (packaging, tests): no user, no venv,
#                    no systemctl/udevadm calls
#   --prefix DIR     virtualenv location (default /opt/smsgw)
#   --no-venv        do not create or update the virtualenv
#   --enable         enable and (re)start the service at the end
#   -h, --help       this text
set -euo pipefail

PREFIX=/opt/smsgw
DESTDIR=
DRY_RUN=0
WITH_VENV=1
ENABLE=0
SERVICE_USER=smsgw
PYTHON=${PYTHON:-python3}
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
die() { echo "install.sh: $*" >&2; exit 1; }
note() { echo "==> $*"; }

while [[ $# -gt 0 ]]; do
    case $1 in
        --dry-run) DRY_RUN=1 ;;
        --destdir) [[ $# -ge 2 ]] || die "--destdir needs a directory"; DESTDIR=${2%/}; shift ;;
        --destdir=*) DESTDIR=${1#*=}; DESTDIR=${DESTDIR%/} ;;
        --prefix) [[ $# -ge 2 ]] || die "--prefix needs a directory"; PREFIX=${2%/}; shift ;;
        --prefix=*) PREFIX=${1#*=}; PREFIX=${PREFIX%/} ;;
        --no-venv) WITH_VENV=0 ;;
        --enable) ENABLE=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "install.sh: unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

[[ $PREFIX == /* ]] || die "--prefix must be an absolute path (got $PREFIX)"
if [[ -n $DESTDIR ]]; then
    [[ $DESTDIR == /* ]] || DESTDIR=$(pwd)/$DESTDIR
    [[ -d $DESTDIR ]] || die "--destdir $DESTDIR does not exist"
    WITH_VENV=0
fi
LIVE=0 # acting on the running system (not a DESTDIR, not a dry run)
[[ -z $DESTDIR && $DRY_RUN == 0 ]] && LIVE=1
if [[ $LIVE == 1 && $(id -u) != 0 ]]; then
    die "run as root (sudo $0), or use --dry-run / --destdir"
fi

# Print a command, then run it unless this is a dry run.
run() {
    printf '+'
    printf ' %q' "$@"
    printf '\n'
    [[ $DRY_RUN == 1 ]] || "$@"
}

# install(1) a file only when its content or mode differs, so re-runs report "unchanged".
put() { # put MODE SRC DEST
    local mode=$1 src=$2 dest=$3
    if [[ -f $dest ]] && cmp -s "$src" "$dest" && [[ $(stat -c %a "$dest") == "${mode#0}" ]]; then
        echo "  unchanged: $dest"
        return 0
    fi
    run install -D -m "$mode" "$src" "$dest"
}

for file in systemd/smsgw.service udev/99-smsgw.rules deploy/smsgw.example.toml; do
    [[ -f $SOURCE_DIR/$file ]] || die "missing $SOURCE_DIR/$file (run from a smsgw checkout)"
done

# 1. Service user.
if [[ -n $DESTDIR ]]; then
    note "skipping user creation under --destdir (create '$SERVICE_USER' in group dialout on the target)"
elif id -u "$SERVICE_USER" >/dev/null 2>&1; then
    note "user $SERVICE_USER exists"
    if ! id -nG "$SERVICE_USER" | tr ' ' '\n' | grep -qx dialout; then
        run usermod -a -G dialout "$SERVICE_USER"
    fi
else
    note "creating system user $SERVICE_USER"
    run useradd --system --user-group --groups dialout --home-dir /var/lib/smsgw \
        --no-create-home --shell /usr/sbin/nologin --comment "smsgw SMS gateway" "$SERVICE_USER"
fi

# 2. Virtualenv with smsgw (upgraded in place on re-runs).
if [[ $WITH_VENV == 1 ]]; then
    note "virtualenv in $PREFIX"
    command -v "$PYTHON" >/dev/null || die "$PYTHON not found (apt install python3 python3-venv)"
    if [[ ! -x $PREFIX/bin/python ]]; then
        run "$PYTHON" -m venv "$PREFIX"
    fi
    run "$PREFIX/bin/python" -m pip install --quiet --upgrade pip
    run "$PREFIX/bin/python" -m pip install --quiet --upgrade "$SOURCE_DIR"
else
    note "skipping the virtualenv ($PREFIX)"
fi

# 3. Documentation next to the venv (the unit's Documentation= points here).
if [[ -f $SOURCE_DIR/docs/deployment.md ]]; then
    put 0644 "$SOURCE_DIR/docs/deployment.md" "$DESTDIR$PREFIX/share/doc/smsgw/deployment.md"
fi

# 4. systemd unit, with the venv path substituted when --prefix is not the default.
note "systemd unit"
unit_tmp=$(mktemp)
trap 'rm -f "$unit_tmp"' EXIT
sed "s#/opt/smsgw/#$PREFIX/#g" "$SOURCE_DIR/systemd/smsgw.service" >"$unit_tmp"
put 0644 "$unit_tmp" "$DESTDIR/etc/systemd/system/smsgw.service"

# 5. udev rules.
note "udev rules"
put 0644 "$SOURCE_DIR/udev/99-smsgw.rules" "$DESTDIR/etc/udev/rules.d/99-smsgw.rules"

# 6. Configuration: the example always, smsgw.toml only when there is none yet.
note "configuration in /etc/smsgw"
run install -d -m 0750 "$DESTDIR/etc/smsgw"
put 0644 "$SOURCE_DIR/deploy/smsgw.example.toml" "$DESTDIR/etc/smsgw/smsgw.toml.example"
if [[ -e $DESTDIR/etc/smsgw/smsgw.toml ]]; then
    echo "  kept: $DESTDIR/etc/smsgw/smsgw.toml"
else
    run install -m 0640 "$SOURCE_DIR/deploy/smsgw.example.toml" "$DESTDIR/etc/smsgw/smsgw.toml"
fi
if [[ -z $DESTDIR ]]; then
    # The service reads its config as group smsgw; it holds the API key and SIM PINs.
    run chgrp "$SERVICE_USER" "$DESTDIR/etc/smsgw" "$DESTDIR/etc/smsgw/smsgw.toml"
fi

# 6b. Upgrade checks: ports an older smsgw reached by itself and this one reaches only after a
# local step (the udev marking rule for SIM800 bridges, a DeviceAllow= drop-in for UARTs). The
# steps stay the admin's to take: marking a device or opening a port is a decision about
# hardware this script cannot see; it can only say what the configuration needs.
WARNINGS=()
CONFIG=$DESTDIR/etc/smsgw/smsgw.toml
RULES_DIR=$DESTDIR/etc/udev/rules.d
DROPIN_DIR=$DESTDIR/etc/systemd/system/smsgw.service.d

# The [[modem]] port strings of a config file, one per line (commented-out lines ignored).
config_ports() {
    sed -nE "s/^[[:space:]]*port[[:space:]]*=[[:space:]]*[\"']([^\"']+)[\"'].*/\1/p" "$1"
}

# Whether a local udev rule (any rules file but the shipped one) marks a SIM800 bridge.
sim800_marked() {
    local file
    for file in "$RULES_DIR"/*.rules; do
        [[ -f $file && ${file##*/} != 99-smsgw.rules ]] || continue
        grep -Eq '^[[:space:]]*[^#[:space:]].*ENV\{SMSGW_SIM800\}="1"' "$file" && return 0
    done
    return 1
}

# The DeviceAllow= values of the unit's drop-ins, one per line.
dropin_device_allows() {
    local file
    for file in "$DROPIN_DIR"/*.conf; do
        [[ -f $file ]] || continue
        sed -nE 's/^[[:space:]]*DeviceAllow=[[:space:]]*([^[:space:]]+).*/\1/p' "$file"
    done
}

# Whether a drop-in allows the UART of PORT: PORT itself, DEVICE (what /dev/serial0 points
# to; "" when that is unknown, and then any built-in UART counts) or DEVICE's whole class.
uart_allowed() {
    local port=$1 device=$2 class allowed
    class=${device#/dev/}
    class=char-${class%%[0-9]*}
    while read -r allowed; do
        [[ $allowed == "$port" ]] && return 0
        if [[ -z $device ]]; then
            [[ $allowed =~ ^(/dev/ttyAMA|/dev/ttyS|/dev/serial|char-ttyAMA$|char-ttyS$) ]] && return 0
        elif [[ $allowed == "$device" || $allowed == "$class" ]]; then
            return 0
        fi
    done < <(dropin_device_allows)
    return 1
}

# The exact local rule line for the bridge behind PORT, from its udev properties when this is
# the live system and the port still exists (before the trigger below re-reads the rules).
sim800_rule_line() {
    local port=$1 properties="" serial id_path
    if [[ -z $DESTDIR && -e $port ]] && command -v udevadm >/dev/null; then
        properties=$(udevadm info -q property -n "$port" 2>/dev/null || true)
    fi
    serial=$(sed -n 's/^ID_SERIAL_SHORT=//p' <<<"$properties")
    id_path=$(sed -n 's/^ID_PATH=//p' <<<"$properties")
    if [[ -n $serial ]]; then
        echo "SUBSYSTEM==\"tty\", ENV{ID_SERIAL_SHORT}==\"$serial\", ENV{SMSGW_SIM800}=\"1\""
    elif [[ -n $id_path ]]; then
        echo "SUBSYSTEM==\"tty\", ENV{ID_PATH}==\"$id_path\", ENV{SMSGW_SIM800}=\"1\""
    fi
}

warn_sim800() {
    local port=$1 line
    line=$(sim800_rule_line "$port")
    local text="warning: [[modem]] port = \"$port\" in /etc/smsgw/smsgw.toml, and no local
         udev rule marks a SIM800 board. The shipped rule names a USB-serial bridge sim800
         only when /etc/udev/rules.d/98-smsgw-local.rules marks it, so $port
         disappears at the next udev trigger or reboot. Mark your board:"
    if [[ -n $line ]]; then
        text+="
           echo '$line' | sudo tee -a /etc/udev/rules.d/98-smsgw-local.rules"
    else
        text+="
           udevadm info -q property -n /dev/ttyUSB0 | grep -E '^(ID_SERIAL_SHORT|ID_PATH)='
           echo 'SUBSYSTEM==\"tty\", ENV{ID_PATH}==\"<ID_PATH>\", ENV{SMSGW_SIM800}=\"1\"' | sudo tee -a /etc/udev/rules.d/98-smsgw-local.rules
         (or ENV{ID_SERIAL_SHORT}==\"<ID_SERIAL_SHORT>\" when the board has a serial number)"
    fi
    text+="
           sudo udevadm control --reload && sudo udevadm trigger --action=add --subsystem-match=tty
         See $PREFIX/share/doc/smsgw/deployment.md, section 3."
    WARNINGS+=("$text")
}

warn_uart() {
    local port=$1 device=$2 allow shown=$1
    [[ -n $device && $device != "$port" ]] && shown="$port (-> $device)"
    local text="warning: [[modem]] port = \"$shown\" in /etc/smsgw/smsgw.toml is a built-in
         UART. The unit allows only USB modem ports and no drop-in in
         /etc/systemd/system/smsgw.service.d/ allows this one, so smsgw cannot open it."
    if [[ -n $device ]]; then
        allow="DeviceAllow=$device rw"
        text+="
         Allow it:"
    else
        allow="DeviceAllow=/dev/ttyAMA0 rw"
        text+="
         Allow the UART it points to (ls -l $port: ttyAMA0 for the PL011 and most HATs,
         ttyS0 for the mini UART):"
    fi
    text+="
           sudo mkdir -p /etc/systemd/system/smsgw.service.d
           printf '[Service]\\n$allow\\n' | sudo tee -a /etc/systemd/system/smsgw.service.d/uart.conf
           sudo systemctl daemon-reload && sudo systemctl restart smsgw
         See $PREFIX/share/doc/smsgw/deployment.md (Local changes)."
    WARNINGS+=("$text")
}

if [[ -f $CONFIG && -r $CONFIG ]]; then
    note "checking the modem ports in /etc/smsgw/smsgw.toml against the rules and the unit"
    while read -r port; do
        case $port in
            /dev/smsgw/sim800 | /dev/smsgw/sim800-*)
                sim800_marked || warn_sim800 "$port" ;;
            /dev/ttyAMA* | /dev/ttyS* | /dev/serial[0-9]*)
                device=$port
                if [[ $port == /dev/serial* ]]; then
                    device=""
                    if [[ -z $DESTDIR && -e $port ]]; then device=$(readlink -f "$port"); fi
                fi
                uart_allowed "$port" "$device" || warn_uart "$port" "$device" ;;
        esac
    done < <(config_ports "$CONFIG")
elif [[ -f $CONFIG ]]; then
    echo "  cannot read $CONFIG: its modem ports were not checked"
fi

# 7. Tell the running system.
if [[ -z $DESTDIR ]]; then
    if command -v udevadm >/dev/null; then
        run udevadm control --reload
        run udevadm trigger --action=add --subsystem-match=tty --subsystem-match=usb
    fi
    if command -v systemctl >/dev/null; then
        run systemctl daemon-reload
        if systemctl is-active --quiet ModemManager 2>/dev/null; then
            echo "warning: ModemManager is running. The udev rules tell it to ignore the modems"
            echo "         smsgw knows; if you use no other modem: sudo systemctl disable --now ModemManager"
        fi
        if [[ $ENABLE == 1 ]]; then
            run systemctl enable smsgw.service
            run systemctl restart smsgw.service
        fi
    fi
fi

cat <<EOF

Done. Next steps:
  1. Edit /etc/smsgw/smsgw.toml: at least one [[modem]] (ls -l /dev/smsgw/) and [webhook] url.
  2. Check it:      sudo -u $SERVICE_USER $PREFIX/bin/smsgw config check --config /etc/smsgw/smsgw.toml
  3. Probe a modem: sudo -u $SERVICE_USER $PREFIX/bin/smsgw modem info --port /dev/smsgw/sim800
  4. Start it:      sudo systemctl enable --now smsgw && journalctl -u smsgw -f
  The generated API key is in /var/lib/smsgw/api-key. More: $PREFIX/share/doc/smsgw/deployment.md
EOF

# Last, so they are what the admin sees when the script ends.
for warning in "${WARNINGS[@]}"; do
    printf '\n%s\n' "$warning"
done

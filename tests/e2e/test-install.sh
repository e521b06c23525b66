#!/bin/sh
# make install into a DESTDIR: the tree a package would hold, man pages that
# render without a warning, a unit that names the installed paths, and an
# admin's config that a second install leaves alone.
set -u
. tests/e2e/lib.sh
DEST=$(mktemp -d /tmp/tm-install.XXXXXX)
trap 'rm -rf "$DEST"' EXIT
PREFIX=/usr
SYSCONF=/etc
# Install the programs this test run was built as (make asan's too), never
# a relink with other flags.
KEEP="-o $BUILD/ticket-milter -o $BUILD/ticketctl"

make -s $KEEP BUILD="$BUILD" PREFIX=$PREFIX SYSCONFDIR=$SYSCONF DESTDIR="$DEST" install \
    >"$DEST.log" 2>&1
ok $? "make install PREFIX=$PREFIX DESTDIR=... succeeds"
sed 's/^/#   /' "$DEST.log" | tail -n 5
rm -f "$DEST.log"

for f in sbin/ticket-milter bin/ticketctl; do
    ok $([ -x "$DEST$PREFIX/$f" ]; echo $?) "$PREFIX/$f is installed and executable"
done
"$DEST$PREFIX/sbin/ticket-milter" -V >/dev/null 2>&1
ok $? "the installed daemon runs (-V)"
for page in man1/ticketctl.1 man5/ticket-milter.conf.5 man8/ticket-milter.8; do
    file=$DEST$PREFIX/share/man/$page
    ok $([ -f "$file" ]; echo $?) "$page is installed"
    warnings=$(MANWIDTH=80 man -l --warnings "$file" 2>&1 >/dev/null)
    is "$warnings" "" "man -l renders $page without warnings"
done
for lang in en nl; do
    want=$(ls templates/$lang | sort | tr '\n' ' ')
    got=$(ls "$DEST$PREFIX/share/ticket-milter/templates/$lang" 2>/dev/null | sort | tr '\n' ' ')
    is "$got" "$want" "the $lang templates are in DATADIR/templates/$lang"
done
conf=$DEST$SYSCONF/ticket-milter.conf
ok $([ -f "$conf" ]; echo $?) "the example config is installed"
is "$(stat -c %a "$conf")" "640" "readable by root and the daemon's group only"
# The binary looks for templates where PREFIX puts them; here they are under DESTDIR.
sed "s|^#*template_dir = .*|template_dir = $DEST$PREFIX/share/ticket-milter/templates|" "$conf" \
    >"$DEST/check.conf"
out=$("$DEST$PREFIX/sbin/ticket-milter" -t -c "$DEST/check.conf" 2>&1)
rc=$?
ok $rc "the example config checks out with the installed daemon and templates (-t)"
[ "$rc" -ne 0 ] && echo "$out" | sed 's/^/#   /'
rm -f "$DEST/check.conf"

unit=$DEST$PREFIX/lib/systemd/system/ticket-milter.service
ok $([ -f "$unit" ]; echo $?) "the systemd unit is installed"
like "$(grep '^ExecStart=' "$unit")" "^ExecStart=$PREFIX/sbin/ticket-milter -f -c $SYSCONF/ticket-milter.conf\$" \
    "the unit starts the installed binary with the installed config, in the foreground"
is "$(sed -n 's/^User=//p' "$unit")" "ticket-milter" "it runs as user ticket-milter"
for opt in 'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' 'ProtectHome=yes' \
    'ReadWritePaths=/var/lib/ticket-milter /run/ticket-milter' 'Type=notify' \
    'RuntimeDirectory=ticket-milter' 'Before=postfix@-.service postfix.service'; do
    ok $(grep -q -F -x "$opt" "$unit"; echo $?) "the unit has $opt"
done
# systemctl reload fails, and sends nothing, when the new config would be refused.
is "$(sed -n 's/^ExecReload=//p' "$unit" | tr '\n' '|')" \
    "$PREFIX/sbin/ticket-milter -t -c $SYSCONF/ticket-milter.conf|/bin/kill -USR1 \$MAINPID|" \
    "the unit's reload checks the config, then signals the daemon"
like "$(grep '^database' "$conf")" '/var/lib/ticket-milter/' \
    "the example database lives in the unit's StateDirectory"
ok $(grep -q -F -x 'RuntimeDirectory=ticket-milter' "$unit"; echo $?) \
    "the unit makes the runtime directory /run/ticket-milter"
is "$(grep '^socket' "$conf")" "socket = unix:/run/ticket-milter/milter.sock
socket_owner = :postfix
socket_mode = 0660" "the example socket is a unix socket in it, for Postfix's group"
if command -v systemd-analyze >/dev/null 2>&1; then
    # Our unit's lines only: a broken unit elsewhere on the machine is not
    # ours to judge, and the binary it names is in DESTDIR, not in PREFIX.
    errors=$(tests/verify-unit --not-installed "$unit")
    is "$errors" "" "systemd-analyze verify finds nothing wrong with the unit's own lines"
else
    skip "systemd-analyze is not installed (scripts/install-deps --dev installs it)"
fi

# A second install keeps the admin's config and puts the example beside it.
echo "# changed by the admin" >>"$conf"
make -s $KEEP BUILD="$BUILD" PREFIX=$PREFIX SYSCONFDIR=$SYSCONF DESTDIR="$DEST" install >/dev/null 2>&1
ok $? "a second make install succeeds"
like "$(tail -n 1 "$conf")" "changed by the admin" "and leaves the existing config alone"
ok $([ -f "$conf.example" ]; echo $?) "the new example goes beside it"

make -s $KEEP BUILD="$BUILD" PREFIX=$PREFIX SYSCONFDIR=$SYSCONF DESTDIR="$DEST" uninstall >/dev/null 2>&1
ok $? "make uninstall succeeds"
left=$(cd "$DEST" && find . -type f | sort | tr '\n' ' ')
is "$left" "./etc/ticket-milter.conf " "it removes everything but the admin's config"

done_testing

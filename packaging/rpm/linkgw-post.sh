# %post of the RPM package `linkgw` ($1: 1 = install, 2 = upgrade): system
# user `linkgw` (in dialout), state directory /var/lib/linkgw 0700, unit preset.
if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers /usr/lib/sysusers.d/linkgw.conf || :
elif ! getent passwd linkgw >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/linkgw --no-create-home \
        --shell /usr/sbin/nologin --comment "linkgw IoT gateway" linkgw || :
fi
if getent group dialout >/dev/null && ! id -nG linkgw | tr ' ' '\n' | grep -qx dialout; then
    usermod -a -G dialout linkgw || :
fi
if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create /usr/lib/tmpfiles.d/linkgw.conf || :
else
    mkdir -p /var/lib/linkgw && chown linkgw:linkgw /var/lib/linkgw && chmod 0700 /var/lib/linkgw || :
fi
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    [ "$1" -eq 1 ] && systemctl preset linkgw.service >/dev/null 2>&1 || :
fi

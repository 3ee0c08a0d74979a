# %postun of the RPM package `linkgw`: restart after an upgrade. RPM has no
# purge: /var/lib/linkgw (state) is kept on erase, like %config files saved
# as .rpmsave; delete it by hand (docs/packaging.md).
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    [ "$1" -ge 1 ] && systemctl try-restart linkgw.service >/dev/null 2>&1 || :
fi

# %preun of the RPM package `linkgw`: on erase ($1 = 0) stop and disable the
# unit; on upgrade leave it running (%postun restarts it).
if [ "$1" -eq 0 ] && [ -d /run/systemd/system ]; then
    systemctl --no-reload disable --now linkgw.service >/dev/null 2>&1 || :
fi

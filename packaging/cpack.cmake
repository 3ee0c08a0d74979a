# CPack configuration of linkgw: DEB and RPM, one package per install
# component (see the table on top of packaging/CMakeLists.txt). Included by
# packaging/CMakeLists.txt after every component's install() rules exist.
#
#   cmake -S . -B build/pkg -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build/pkg
#   (cd build/pkg && cpack -G DEB && cpack -G RPM)

set(CPACK_PACKAGE_NAME linkgw)
set(CPACK_PACKAGE_VENDOR "The linkgw contributors")
set(CPACK_PACKAGE_CONTACT "linkgw maintainers <linkgw@example.org>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_HOMEPAGE_URL "https://example.org/linkgw")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/packages)
set(CPACK_COMPONENTS_ALL ${LINKGW_PACKAGE_COMPONENTS})
set(CPACK_COMPONENTS_GROUPING IGNORE)   # one package per component
set(LINKGW_PACKAGE_RELEASE 1)
set(_full_version "${PROJECT_VERSION}-${LINKGW_PACKAGE_RELEASE}")

# Conffiles (dpkg) / %config(noreplace) (rpm): an operator's edit is never
# overwritten by an upgrade.
set(_conffiles_linkgw ${LINKGW_ETCDIR}/linkgw.conf ${LINKGW_ETCDIR}/conf.d/sim.conf)
set(_conffiles_modbus ${LINKGW_ETCDIR}/conf.d/modbus.conf)
set(_conffiles_knx ${LINKGW_ETCDIR}/conf.d/knx.conf)

set(_summary_linkgw "IoT gateway daemon for Alibaba Cloud IoT Platform")
set(_descr_linkgw "linkgw runs protocol driver plugins (one instance per file in
/etc/linkgw/conf.d) and links their sub-devices to Alibaba Cloud IoT Platform
over MQTT. This package holds the daemon, its systemd unit, the simulator
plugin and a default configuration; drivers ship in linkgw-modbus and
linkgw-knx.")
set(_summary_modbus "Modbus TCP/RTU driver for linkgw")
set(_descr_modbus "Polls Modbus TCP and RTU slaves described in a conf.d file and reports
their points as device properties through linkgw.")
set(_summary_knx "KNX driver for linkgw (through knxd)")
set(_descr_knx "Binds KNX group addresses to device properties and services through a
knxd server (libeibclient).")
set(_summary_dev "SDK to build linkgw driver plugins")
set(_descr_dev "Headers of linkgw's stable plugin ABI, the pkg-config file
linkgw-plugin, the driver author's guide and an example driver with its
Makefile, for building third-party .so drivers out of tree.")
set(_summary_emu "Alibaba Cloud IoT Platform emulator for linkgw driver authors")
set(_descr_emu "alink-emu: a mosquitto plugin that answers the Alink protocol like the
cloud does (authentication, topology, thing models) and a CLI to start the
broker and act as the cloud console, for testing a gateway offline.")

# ---- DEB -----------------------------------------------------------------------------
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE ${LINKGW_PACKAGE_RELEASE})
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)        # dpkg-shlibdeps: libuv1, libmodbus5, knxd-tools …
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_LINKGW_PACKAGE_NAME linkgw)
set(CPACK_DEBIAN_LINKGW_PACKAGE_SECTION net)
# OTA loads libcurl with dlopen() (core/ota/ota_fetch.c), so dpkg-shlibdeps cannot see it.
# CURLOPT_PROTOCOLS_STR needs 7.85.
set(CPACK_DEBIAN_LINKGW_PACKAGE_DEPENDS "libcurl4 (>= 7.85) | libcurl4t64 (>= 7.85)")
set(CPACK_DEBIAN_MODBUS_PACKAGE_NAME linkgw-modbus)
set(CPACK_DEBIAN_MODBUS_PACKAGE_DEPENDS "linkgw (= ${_full_version})")
set(CPACK_DEBIAN_KNX_PACKAGE_NAME linkgw-knx)
set(CPACK_DEBIAN_KNX_PACKAGE_DEPENDS "linkgw (= ${_full_version})")
set(CPACK_DEBIAN_KNX_PACKAGE_SUGGESTS knxd)
set(CPACK_DEBIAN_DEV_PACKAGE_NAME linkgw-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "linkgw (= ${_full_version})")
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "pkg-config, gcc | c-compiler, make")
set(CPACK_DEBIAN_DEV_PACKAGE_SUGGESTS linkgw-emu)
set(CPACK_DEBIAN_EMU_PACKAGE_NAME linkgw-emu)
set(CPACK_DEBIAN_EMU_PACKAGE_SECTION devel)
set(CPACK_DEBIAN_EMU_PACKAGE_DEPENDS "mosquitto")

# Maintainer scripts (packaging/deb) and conffiles lists, in the control area.
set(_ctl ${CMAKE_CURRENT_BINARY_DIR}/deb-control)
foreach(comp linkgw modbus knx)
  string(TOUPPER ${comp} _C)
  set(_extra)
  if(comp STREQUAL "linkgw")
    file(MAKE_DIRECTORY ${_ctl}/linkgw)
    foreach(s postinst prerm postrm)
      configure_file(${CMAKE_CURRENT_SOURCE_DIR}/deb/${s} ${_ctl}/linkgw/${s} COPYONLY)
      list(APPEND _extra ${_ctl}/linkgw/${s})
    endforeach()
  endif()
  list(JOIN _conffiles_${comp} "\n" _cf)
  file(WRITE ${_ctl}/${comp}.conffiles "${_cf}\n")
  file(MAKE_DIRECTORY ${_ctl}/${comp})
  configure_file(${_ctl}/${comp}.conffiles ${_ctl}/${comp}/conffiles COPYONLY)
  list(APPEND _extra ${_ctl}/${comp}/conffiles)
  set(CPACK_DEBIAN_${_C}_PACKAGE_CONTROL_EXTRA "${_extra}")
endforeach()

foreach(comp ${LINKGW_PACKAGE_COMPONENTS})
  string(TOUPPER ${comp} _C)
  # DEB: the first line of the description is the synopsis.
  set(CPACK_DEBIAN_${_C}_DESCRIPTION "${_summary_${comp}}\n${_descr_${comp}}")
  set(CPACK_COMPONENT_${_C}_DESCRIPTION "${_descr_${comp}}")
  set(CPACK_RPM_${_C}_PACKAGE_SUMMARY "${_summary_${comp}}")
  set(CPACK_RPM_${_C}_PACKAGE_DESCRIPTION "${_descr_${comp}}")
endforeach()

# ---- RPM -----------------------------------------------------------------------------
set(CPACK_RPM_COMPONENT_INSTALL ON)
set(CPACK_RPM_PACKAGE_RELEASE ${LINKGW_PACKAGE_RELEASE})
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_AUTOREQ ON)             # libmodbus.so.5()(64bit), libeibclient.so.0 …
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)          # paths are compiled into the daemon
set(CPACK_RPM_LINKGW_PACKAGE_NAME linkgw)
set(CPACK_RPM_LINKGW_PACKAGE_REQUIRES "libcurl >= 7.85")   # dlopen()ed by OTA: AUTOREQ cannot see it
set(CPACK_RPM_MODBUS_PACKAGE_NAME linkgw-modbus)
set(CPACK_RPM_MODBUS_PACKAGE_REQUIRES "linkgw = ${_full_version}")
set(CPACK_RPM_KNX_PACKAGE_NAME linkgw-knx)
set(CPACK_RPM_KNX_PACKAGE_REQUIRES "linkgw = ${_full_version}")
set(CPACK_RPM_DEV_PACKAGE_NAME linkgw-dev)
set(CPACK_RPM_DEV_PACKAGE_REQUIRES "linkgw = ${_full_version}")
set(CPACK_RPM_EMU_PACKAGE_NAME linkgw-emu)
set(CPACK_RPM_EMU_PACKAGE_REQUIRES "mosquitto")
set(CPACK_RPM_LINKGW_POST_INSTALL_SCRIPT_FILE ${CMAKE_CURRENT_SOURCE_DIR}/rpm/linkgw-post.sh)
set(CPACK_RPM_LINKGW_PRE_UNINSTALL_SCRIPT_FILE ${CMAKE_CURRENT_SOURCE_DIR}/rpm/linkgw-preun.sh)
set(CPACK_RPM_LINKGW_POST_UNINSTALL_SCRIPT_FILE ${CMAKE_CURRENT_SOURCE_DIR}/rpm/linkgw-postun.sh)
foreach(comp linkgw modbus knx)
  string(TOUPPER ${comp} _C)
  set(_list)
  foreach(f ${_conffiles_${comp}})
    list(APPEND _list "%config(noreplace) ${f}")
  endforeach()
  set(CPACK_RPM_${_C}_USER_FILELIST ${_list})
endforeach()
# Directories other packages own (filesystem, systemd, pkg-config …).
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
  /lib /lib/systemd /lib/systemd/system
  /usr/lib/systemd /usr/lib/systemd/system /usr/lib/sysusers.d /usr/lib/tmpfiles.d
  ${CMAKE_INSTALL_FULL_LIBDIR} ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig
  /usr/share/doc)
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

set(CPACK_GENERATOR "")
find_program(LINKGW_DPKG_DEB dpkg-deb)
find_program(LINKGW_RPMBUILD rpmbuild)
if(LINKGW_DPKG_DEB)
  list(APPEND CPACK_GENERATOR DEB)
endif()
if(LINKGW_RPMBUILD)
  list(APPEND CPACK_GENERATOR RPM)
endif()

include(CPack)

// Package deploy holds the files that install tierwatch as a service:
// tierwatch.service, a hardened systemd unit (Type=notify, watchdog,
// SIGHUP reload, dynamic user, credentials). It has no Go code; its test
// runs `systemd-analyze verify` on the unit.
package deploy

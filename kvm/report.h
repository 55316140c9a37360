/* kvm/report.h — the one way kvm/ says anything to the user.
 *
 * Everything else in kvm/ returns errors to its caller; only --trace-io
 * lines and warnings that must not stop the guest come through here. */
#ifndef KVMSTUB_REPORT_H
#define KVMSTUB_REPORT_H

/* One line on stderr, prefixed "kvmstub: ". */
void kvm_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

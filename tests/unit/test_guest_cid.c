// SPDX-License-Identifier: GPL-2.0
/* guest-cid=N in argv: the /proc fallback's only source for a CID. */
#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "vsock_files.h"

#define CID(lit) argv_guest_cid(lit, sizeof(lit) - 1)

int main(void)
{
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,guest-cid=12") == 12);
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,guest-cid=123,id=v0") == 123);
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,id=v0,guest-cid=7\0-m\0032") == 7);
	/* not a whole fragment, or not a number */
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,guest-cid=12x") == 0);
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,xguest-cid=12") == 0);
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,guest-cid=") == 0);
	CHECK(CID("qemu\0-device\0vhost-vsock-pci,guest-cid=-3") == 0);
	CHECK(CID("qemu\0guest-cid") == 0);
	CHECK(argv_guest_cid("", 0) == 0);
	return check_done("test_guest_cid");
}

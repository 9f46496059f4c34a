/*
 * The service manager's notification protocol (daemon/base/notify.c),
 * received on real datagram sockets: a path and an abstract name, no
 * socket, a socket nobody listens on, and the watchdog variables with the
 * values systemd sets and with ones it never would.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "base.h"

/* A datagram socket bound to name (a path, or "@..." for abstract). */
static int
listen_on(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0 && n < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n +
	    (name[0] != '@'))), 0);
	return fd;
}

static void
expect_datagram(int fd, const char *want)
{
	char buf[600];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

static void
test_path_and_abstract(void **state)
{
	char path[64], abstract[64];
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/hztest-notify-%d", (int)getpid());
	unlink(path);
	fd = listen_on(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	assert_int_equal(notify("STATUS=%u sensors\nX=%s", 3u, "y"), 1);
	expect_datagram(fd, "STATUS=3 sensors\nX=y");
	close(fd);
	/* Nobody listens any more: an error, never a hang or a signal. */
	assert_int_equal(notify("WATCHDOG=1"), -ECONNREFUSED);
	unlink(path);

	snprintf(abstract, sizeof(abstract), "@hztest-notify-%d", (int)getpid());
	fd = listen_on(abstract);
	setenv("NOTIFY_SOCKET", abstract, 1);
	assert_int_equal(notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
}

/*
 * A service manager that has stopped reading: its queue fills, and
 * notify() must then fail at once with EAGAIN.  A blocking sendto() would
 * stall the core thread at its watchdog ping (and with it every alarm);
 * SIGALRM turns such a hang into a failure instead of a stuck test.
 */
static sigjmp_buf stuck;

static void
on_alarm(int sig)
{
	(void)sig;
	siglongjmp(stuck, 1);
}

static void
test_stalled_manager(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char path[64];
	volatile int i = 0;
	int fd, rc = 1;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/hztest-notify-full-%d", (int)getpid());
	unlink(path);
	fd = listen_on(path);
	setenv("NOTIFY_SOCKET", path, 1);
	sigaction(SIGALRM, &sa, NULL);
	if (sigsetjmp(stuck, 1) != 0) {
		unlink(path);
		fail_msg("notify() blocked on a full queue (after %d datagrams)", i);
	}
	alarm(5);
	/* The queue holds net.unix.max_dgram_qlen (default 10) datagrams. */
	for (i = 0; i < 100000 && rc == 1; i++)
		rc = notify("WATCHDOG=1");
	alarm(0);
	assert_int_equal(rc, -EAGAIN);
	assert_true(i > 1);
	/* Read again: the next ping goes through. */
	expect_datagram(fd, "WATCHDOG=1");
	assert_int_equal(notify("WATCHDOG=1"), 1);
	close(fd);
	unlink(path);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_no_socket(void **state)
{
	char big[600];

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(notify("READY=1"), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	setenv("NOTIFY_SOCKET", big, 1);	/* longer than sun_path */
	assert_int_equal(notify("READY=1"), -EINVAL);
	setenv("NOTIFY_SOCKET", "/tmp/x", 1);
	assert_int_equal(notify("STATUS=%s", big), -EMSGSIZE);
	unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog(void **state)
{
	static const char *bad[] = { "", "-1", "0", "12x", " 5", "+5",
	    "99999999999999999999999" };
	char pid[24];
	uint64_t usec = 7;

	(void)state;
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	assert_int_equal(notify_watchdog_usec(&usec), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("WATCHDOG_USEC", bad[i], 1);
		assert_int_equal(notify_watchdog_usec(&usec), 0);
	}
	assert_int_equal(usec, 7);	/* untouched when there is none */
	setenv("WATCHDOG_USEC", "30000000", 1);
	assert_int_equal(notify_watchdog_usec(&usec), 1);
	assert_int_equal(usec, 30000000);
	/* Meant for this process, then for another one (a parent's). */
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(&usec), 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	assert_int_equal(notify_watchdog_usec(&usec), 0);
	setenv("WATCHDOG_PID", "x", 1);
	assert_int_equal(notify_watchdog_usec(&usec), 0);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_and_abstract),
		cmocka_unit_test(test_stalled_manager),
		cmocka_unit_test(test_no_socket),
		cmocka_unit_test(test_watchdog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

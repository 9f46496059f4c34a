/*
 * sim-server.c - hazmon-sim's poll() loop: Modbus TCP clients or the RTU
 * line, the command sources, flapping values and the queue of replies
 * held back by delay faults.  Nothing in the loop blocks for longer than
 * libmodbus' 100 ms byte timeout on a half-sent TCP frame.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "hazmon-sim.h"

/* Send a whole reply now.  TCP: never blocks (a client that does not
 * read is dropped, -1); RTU: a reply the line cannot take is reported. */
int
send_reply(struct sim *s, int fd, const uint8_t *b, int n)
{
	ssize_t w;

	if (!s->rtu) {
		w = send(fd, b, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		return w == n ? 0 : -1;
	}
	if ((w = write(fd, b, (size_t)n)) != n)
		complain("%s: reply lost: %s", s->device,
		    w < 0 ? strerror(errno) : "output full");
	return 0;
}

/* Hold a reply until due.  The queue stays sorted by due time; equal
 * times keep their arrival order. */
void
defer_reply(struct sim *s, int fd, const uint8_t *b, int n, double due,
    int holds_line)
{
	int i = s->npending;

	if (i == MAX_PENDING) {
		complain("more than %d delayed replies; one dropped",
		    MAX_PENDING);
		return;
	}
	for (; i > 0 && s->pending[i - 1].due > due; i--)
		s->pending[i] = s->pending[i - 1];
	s->pending[i].fd = fd;
	s->pending[i].holds_line = holds_line;
	s->pending[i].len = n;
	s->pending[i].due = due;
	memcpy(s->pending[i].adu, b, (size_t)n);
	s->npending++;
}

/* RTU: a pending reply of a `delay MS busy` fault keeps the line busy,
 * like a single-threaded device whose UART buffers the input meanwhile. */
int
line_busy(const struct sim *s)
{
	for (int i = 0; i < s->npending; i++)
		if (s->pending[i].holds_line)
			return 1;
	return 0;
}

/* A dropped client's delayed replies must not go to a reused fd. */
static void
purge_pending(struct sim *s, int fd)
{
	int j = 0;

	for (int i = 0; i < s->npending; i++)
		if (s->pending[i].fd != fd)
			s->pending[j++] = s->pending[i];
	s->npending = j;
}

static void
drop_client(struct sim *s, int i, const char *why)
{
	if (s->verbose)
		complain("client fd=%d dropped: %s", s->clients[i], why);
	purge_pending(s, s->clients[i]);
	close(s->clients[i]);
	s->clients[i] = s->clients[--s->nclients];
}

static void
send_due(struct sim *s, double now)
{
	while (s->npending > 0 && s->pending[0].due <= now) {
		int fd = s->pending[0].fd, i;
		int rc = send_reply(s, fd, s->pending[0].adu,
		    s->pending[0].len);

		if (s->verbose)
			fprintf(stderr, "delayed reply of %d bytes %s\n",
			    s->pending[0].len,
			    rc < 0 ? "could not be sent" : "sent");
		memmove(&s->pending[0], &s->pending[1],
		    (size_t)--s->npending * sizeof s->pending[0]);
		for (i = 0; rc < 0 && i < s->nclients && s->clients[i] != fd;
		     i++)
			;
		if (rc < 0 && i < s->nclients)
			drop_client(s, i, "delayed reply could not be sent");
	}
}

/* Read and answer one request.  Returns 0 to keep the client, -1 to
 * drop it.  A frame arriving in pieces makes modbus_receive() wait, but
 * at most IO_TIMEOUT_US per piece. */
static int
serve_client(struct sim *s, int fd, double now)
{
	uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
	int rc, len;

	modbus_set_socket(s->ctx, fd);
	if ((rc = modbus_receive(s->ctx, q)) <= 0)
		return rc;
	/* libmodbus frames by function code and ignores the MBAP header;
	 * check it agrees, so garbage is dropped rather than answered. */
	len = MBAP_PREFIX + (q[4] << 8 | q[5]);
	if (q[2] || q[3] || len < rc || len > MODBUS_TCP_MAX_ADU_LENGTH)
		return -1;
	/* Longer: bytes libmodbus did not consume (an unknown function
	 * code's data); skip them so the next frame starts where it should. */
	if (len > rc &&
	    recv(fd, q + rc, (size_t)(len - rc), MSG_DONTWAIT) != len - rc)
		return -1;
	return handle_request(s, fd, q, rc, now);
}

static void
accept_clients(struct sim *s)
{
	int fd, one = 1;

	while ((fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		if (s->nclients == MAX_CLIENTS) {
			complain("too many clients, connection refused");
			close(fd);
			continue;
		}
		/* Answers must not wait for Nagle when clients pipeline. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		s->clients[s->nclients++] = fd;
	}
}

static int
poll_timeout(const struct sim *s, double now)
{
	const struct source *srcs[2] = { &s->script, &s->fifo };
	double wait = POLL_MAX_MS / 1000.0, t = flaps_next(s, now);

	for (int i = 0; i < 2; i++)
		if (srcs[i]->next < srcs[i]->nlines && srcs[i]->due < t)
			t = srcs[i]->due;
	if (s->npending > 0 && s->pending[0].due < t)
		t = s->pending[0].due;
	if (s->rtu && rtu_deadline(s) < t)
		t = rtu_deadline(s);
	if (t - now < wait)
		wait = t - now;
	/* +1 ms so we wake just after the due time, not just before it. */
	return wait <= 0                 ? 0 :
	    wait >= POLL_MAX_MS / 1000.0 ? POLL_MAX_MS :
	                                   (int)(wait * 1000.0) + 1;
}

/* Fill pfd: [0] the FIFO, [1] the listening socket or the serial line,
 * then the TCP clients.  An fd of -1 is ignored by poll(). */
static nfds_t
poll_set(const struct sim *s, struct pollfd *pfd)
{
	int line_free = s->rtu && !line_busy(s) && s->line.len < RTU_BUF;

	pfd[0] = (struct pollfd){ .fd = s->fifo.fd, .events = POLLIN };
	/* While the line is busy, input waits in the tty until it is free. */
	pfd[1] = (struct pollfd){ .fd = s->rtu ? (line_free ? s->line.fd : -1) :
		                                 s->listen_fd,
		.events = POLLIN };
	for (int i = 0; !s->rtu && i < s->nclients; i++)
		pfd[2 + i] = (struct pollfd){ .fd = s->clients[i],
			.events = POLLIN };
	return 2 + (nfds_t)(s->rtu ? 0 : s->nclients);
}

int
serve(struct sim *s)
{
	struct pollfd pfd[2 + MAX_CLIENTS];

	while (!s->quit && !sim_got_signal) {
		double now = now_sec();
		int n;

		if ((n = poll(pfd, poll_set(s, pfd), poll_timeout(s, now))) <
		        0 &&
		    errno != EINTR)
			return complain("poll: %s", strerror(errno));
		now = now_sec();
		flaps_tick(s, now); /* requests below see the current value */
		send_due(s, now);
		if (s->rtu) {
			if (n > 0 && pfd[1].revents && rtu_input(s, now) < 0)
				return -1;
			rtu_process(s, now);
		} else {
			/* Backwards, so drop_client()'s swap-with-last skips nobody. */
			for (int i = s->nclients - 1; n > 0 && i >= 0; i--)
				if (pfd[2 + i].revents &&
				    serve_client(s, s->clients[i], now) < 0)
					drop_client(s, i,
					    "closed, error, bad frame or "
					    "disconnect fault");
			if (n > 0 && (pfd[1].revents & POLLIN))
				accept_clients(s);
		}
		if (n > 0 && (pfd[0].revents & POLLIN))
			fifo_read(&s->fifo, now);
		run_source(s, &s->script, now);
		run_source(s, &s->fifo, now);
	}
	return 0;
}

int
start_listening(struct sim *s)
{
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;

	if (inet_pton(AF_INET, s->addr, &sa.sin_addr) != 1)
		return complain("'%s' is not an IPv4 address", s->addr);
	if (!(s->ctx = modbus_new_tcp(s->addr, s->port)))
		return complain("modbus_new_tcp: %s", modbus_strerror(errno));
	/* Bound how long one half-sent frame can hold up the loop. */
	modbus_set_indication_timeout(s->ctx, 0, IO_TIMEOUT_US);
	modbus_set_byte_timeout(s->ctx, 0, IO_TIMEOUT_US);
	if ((s->listen_fd = modbus_tcp_listen(s->ctx, MAX_CLIENTS)) < 0)
		return complain("cannot listen on %s:%d: %s", s->addr, s->port,
		    modbus_strerror(errno));
	/* Non-blocking, so a client vanishing between poll() and accept()
	 * cannot stall the loop. */
	fcntl(s->listen_fd, F_SETFL, fcntl(s->listen_fd, F_GETFL) | O_NONBLOCK);
	fcntl(s->listen_fd, F_SETFD, FD_CLOEXEC);
	if (getsockname(s->listen_fd, (struct sockaddr *)&sa, &salen) == 0)
		s->port = ntohs(sa.sin_port);
	printf("hazmon-sim: listening on %s:%d\n", s->addr, s->port);
	fflush(stdout);
	return 0;
}

void
close_clients(struct sim *s)
{
	for (int i = 0; i < s->nclients; i++)
		close(s->clients[i]);
	s->nclients = 0;
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
}

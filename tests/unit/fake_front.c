/*
 * The fake front end: every operation recorded.
 */
#include <stdlib.h>
#include <string.h>

#include "fake_front.h"
#include "wire.h"
#include "xmalloc.h"

static void	fake_front_send(void *, cJSON *);
static void	fake_front_send_result(void *, const char *, size_t,
		    const char *, size_t, const char *, size_t);
static void	fake_front_send_line(void *, const char *, size_t);
static void	fake_front_pause(void *);
static void	fake_front_resume(void *);
static void	fake_front_close(void *, const char *);

static const struct front_ops fake_front_ops = {
	.send = fake_front_send,
	.send_result = fake_front_send_result,
	.send_line = fake_front_send_line,
	.pause = fake_front_pause,
	.resume = fake_front_resume,
	.close = fake_front_close,
};

/* A client of uid, admin or not; counters NULL: the fake's own. */
void
fake_front_init(struct fake_front *ff, struct counters *counters, uid_t uid,
    int admin)
{
	memset(ff, 0, sizeof *ff);
	front_init(&ff->front, &fake_front_ops, ff, counters != NULL ?
	    counters : &ff->counters, uid, (pid_t)uid + 1, admin);
	ff->sent = cJSON_CreateArray();
}

/* Free what the fake kept. */
void
fake_front_clear(struct fake_front *ff)
{
	cJSON_Delete(ff->sent);
	ff->sent = NULL;
	free(ff->last_line);
	ff->last_line = NULL;
}

/* The oldest message not popped (the caller owns it), or NULL. */
cJSON *
fake_front_pop(struct fake_front *ff)
{
	if (cJSON_GetArraySize(ff->sent) == 0)
		return (NULL);
	return (cJSON_DetachItemFromArray(ff->sent, 0));
}

/* Messages not popped yet. */
size_t
fake_front_waiting(struct fake_front *ff)
{
	return ((size_t)cJSON_GetArraySize(ff->sent));
}

/*
 * Keep a message; takes it. It is kept as a front end would have sent
 * it, printed and read back (raw ids become numbers or strings).
 */
static void
fake_front_send(void *arg, cJSON *msg)
{
	struct fake_front	*ff = arg;
	char			*text;

	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if ((msg = cJSON_Parse(text)) == NULL)
		msg = cJSON_CreateString("send: not JSON");
	free(text);
	cJSON_AddItemToArray(ff->sent, msg);
	ff->nsent++;
}

/* Keep a message sent as text, parsed; the text is kept as lastline. */
static void
fake_front_send_line(void *arg, const char *line, size_t len)
{
	struct fake_front	*ff = arg;
	cJSON			*msg;

	free(ff->last_line);
	ff->last_line = xstrndup(line, len);
	if (memchr(line, '\n', len) != NULL ||
	    (msg = cJSON_ParseWithLength(line, len)) == NULL)
		msg = cJSON_CreateString("send_line: not one JSON line");
	cJSON_AddItemToArray(ff->sent, msg);
	ff->nsent++;
}

/* Build the fast path's line as a front end would, and keep it parsed. */
static void
fake_front_send_result(void *arg, const char *id, size_t id_len,
    const char *meta, size_t meta_len, const char *body, size_t len)
{
	struct fake_front	*ff = arg;
	cJSON			*msg;
	char			*line, *end;
	size_t			 size;

	size = wire_result_size(id_len, meta_len, len);
	line = xmalloc(size);
	end = wire_result_fill(line, id, id_len, meta, meta_len, body, len);
	/* A string in place of the message fails the test that pops it. */
	if ((size_t)(end - line) != size || end[-1] != '\n')
		msg = cJSON_CreateString("send_result: not one line of size");
	else if ((msg = cJSON_ParseWithLength(line, size)) == NULL)
		msg = cJSON_CreateString("send_result: not JSON");
	free(line);
	cJSON_AddItemToArray(ff->sent, msg);
	ff->nsent++;
	ff->nresults++;
}

/* The core paused the client's reading. */
static void
fake_front_pause(void *arg)
{
	((struct fake_front *)arg)->pauses++;
}

/* The core resumed it. */
static void
fake_front_resume(void *arg)
{
	((struct fake_front *)arg)->resumes++;
}

/* The core drops the client. */
static void
fake_front_close(void *arg, const char *reason)
{
	struct fake_front	*ff = arg;

	(void)reason;
	ff->closed++;
	if (ff->on_close != NULL)
		ff->on_close(ff, ff->on_close_arg);
}

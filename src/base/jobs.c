/* jobs.c: a fixed pool of threads running queued functions, for work too slow for an HTTP worker
 * thread (an argon2id verification takes ~100 ms and would stall every connection of that worker).
 */
#include "base.h"

#include <pthread.h>
#include <stdlib.h>

struct job {
    void (*fn)(void *arg);
    void *arg;
    struct job *next;
};

struct jobs {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    bool stopping;
    unsigned n_threads;
    pthread_t threads[];
};

static void *jobs_main(void *arg)
{
    struct jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    for (;;) {
        while (!j->head && !j->stopping)
            pthread_cond_wait(&j->cv, &j->mu);
        struct job *job = j->head;
        if (!job)
            break;
        j->head = job->next;
        if (!j->head)
            j->tail = NULL;
        pthread_mutex_unlock(&j->mu);
        job->fn(job->arg);
        free(job);
        pthread_mutex_lock(&j->mu);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

struct jobs *jobs_new(unsigned threads)
{
    struct jobs *j = xcalloc(1, sizeof *j + threads * sizeof(pthread_t));
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    j->n_threads = threads;
    for (unsigned i = 0; i < threads; i++)
        pthread_create(&j->threads[i], NULL, jobs_main, j);
    return j;
}

void jobs_submit(struct jobs *j, void (*fn)(void *arg), void *arg)
{
    struct job *job = xmalloc(sizeof *job);
    job->fn = fn;
    job->arg = arg;
    job->next = NULL;
    pthread_mutex_lock(&j->mu);
    if (j->tail)
        j->tail->next = job;
    else
        j->head = job;
    j->tail = job;
    pthread_cond_signal(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

void jobs_free(struct jobs *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->mu);
    j->stopping = true;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    for (unsigned i = 0; i < j->n_threads; i++)
        pthread_join(j->threads[i], NULL);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

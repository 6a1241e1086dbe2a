// Imported first by main.ts, before anything touches libuv's thread pool (it reads this once).
// Every partition commits with its own write + fdatasync; with the default 4 threads, 16
// partitions' commits queue behind each other and acks wait for the queue.
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = process.env.WHARF_EVENTLOG_IO_THREADS || '16';

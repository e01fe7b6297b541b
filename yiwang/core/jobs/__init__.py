"""Background work: the periodic jobs (``registry``), the scheduler that queues them
(``scheduler``) and the task-queue and cache settings (``config``, imported by the settings module,
so this package imports nothing at load time)."""

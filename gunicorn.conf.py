"""gunicorn settings read from the working directory (``gunicorn certbody.wsgi:application``
picks this file up by itself; the command line's options still apply).

Each worker renders a tiny PDF once it has loaded the application (``post_worker_init``), so the
fonts load at start-up and a client's first certificate PDF from that worker takes the warm
time, not the 1–2 s of a cold process (``certbody.pdf.warm_up``; issue #16). ``PDF_WARM_UP=0``
turns it off.
"""


def post_worker_init(worker):
    """After the worker has imported the WSGI application (Django is set up): warm the PDFs."""
    from certbody.pdf import warm_up

    seconds = warm_up()
    if seconds is not None:
        worker.log.info("PDF warm-up in %.2f s", seconds)

"""django-helpdesk measured side by side with ours (issue 20): see run.py.

Everything here but run.py runs inside var/bench/djh-venv, never the
project's .venv; nothing of django-helpdesk itself is in this repository.
"""

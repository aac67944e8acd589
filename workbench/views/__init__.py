"""Views: how results are written for people to read (HTML), with no notebook machinery.

Every text that came from a model, a data file or a user is escaped by ``views.html.escape`` before it is
put in HTML: the one escaper of the project.
"""

"""Figures for writers: read published release bundles, never the warehouse.

By concept:

* ``figures.figure``: a ``Selection`` (what a writer asks for), its checks, and the ``Figure``
  it gives, the object ``bls-refresh figure --json`` prints (one builder per source: OEWS
  estimates, projections);
* ``figures.measures``: the measures a figure can be asked for, with unit and phrase: OEWS's
  from the OEWS catalogue (``transforms.oews_catalog``), the projections' listed there;
* ``figures.format``: a number as a writer prints it, by the catalogue's unit formats;
* ``figures.release``: which release, and parameterised read-only queries on its bundle;
* ``figures.spec``: ``figures.yaml`` rendered to ``figures.json``, and the writer publishing
  calls (``bundle_writer``);
* ``figures.errors``: ``FigureError``, a figure that cannot be given.
"""

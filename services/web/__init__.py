"""Pantau web (issue 14): the public face of the platform, server-rendered pages in Bahasa Indonesia.

- ``map``: the choropleth of the 514 kab/kota as inline SVG, drawn on the server from the shipped
  boundaries (``schemas/data/boundaries/``), so it works offline and without JavaScript;
- ``colours``: colour scales and the maturity level colours, with their WCAG contrast;
- ``messages``: the pages' words and number and date formats, Bahasa Indonesia first, English as the choice;
- ``views``: the pages' view models, from the history API's bodies (pure);
- ``exports``: CSV and XLSX of a ranking and of a region's history.

Not yet: the service itself (routes, templates, clients of the other services' APIs), decision 0008.
"""

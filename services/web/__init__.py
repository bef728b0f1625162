"""Pantau web (issue 14): the public face of the platform, server-rendered pages in Bahasa Indonesia.

- ``map``: the choropleth of the 514 kab/kota as inline SVG, drawn on the server from the shipped
  boundaries (``schemas/data/boundaries/``), so it works offline and without JavaScript;
- ``colours``: colour scales and the maturity level colours, with their WCAG contrast.
"""

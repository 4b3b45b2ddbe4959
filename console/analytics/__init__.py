"""The analytics page: how the assistant is used and how it does, as inline SVG charts with
their numbers (`routes`, over `queries`; the charts' geometry: `charts`)."""

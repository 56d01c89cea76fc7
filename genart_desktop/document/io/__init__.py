"""File formats: OpenRaster (.ora) with layers, flat raster images, and the dispatch between them."""

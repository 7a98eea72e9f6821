# proghelper/: the cachegate-prog GOCACHEPROG helper.

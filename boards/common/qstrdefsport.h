// qstrs used by the port that the scanner cannot see.
// *FORMAT-OFF*
Q(<boot>)

/* mkdata - writes a synthetic idx data set for the end-to-end tests.
 * usage: mkdata DIR [SIDE CLASSES NTRAIN NTEST] -> DIR/{train,test}-{images,labels}.gz */
#include "testutil.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: mkdata DIR [SIDE CLASSES NTRAIN NTEST]\n");
    return 2;
  }
  int side = argc > 2 ? atoi(argv[2]) : 8, classes = argc > 3 ? atoi(argv[3]) : 4;
  int ntrain = argc > 4 ? atoi(argv[4]) : 2000, ntest = argc > 5 ? atoi(argv[5]) : 500;
  if (write_synthetic_idx(argv[1], "train", ntrain, side, classes, 1) ||
      write_synthetic_idx(argv[1], "test", ntest, side, classes, 2)) {
    fprintf(stderr, "mkdata: cannot write into %s\n", argv[1]);
    return 1;
  }
  return 0;
}

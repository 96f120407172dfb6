/*
 * Replays a libFuzzer corpus through a target without libFuzzer, so the
 * committed seeds and past crashers run as regression tests in every build
 * (including the ASan one) with the ordinary compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
main(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		static uint8_t data[1 << 20];
		size_t n;

		if (f == NULL) {
			perror(argv[i]);
			return 66;
		}
		n = fread(data, 1, sizeof data, f);
		fclose(f);
		LLVMFuzzerTestOneInput(data, n);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}

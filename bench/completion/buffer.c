/* A growable byte buffer and a line splitter. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t length;
    size_t capacity;
} Buffer;

int buffer_init(Buffer *buffer, size_t capacity) {
    buffer->data = malloc(capacity);
    if (buffer->data == NULL) {
        return -1;
    }
    buffer->length = 0;
    buffer->capacity = capacity;
    return 0;
}

int buffer_reserve(Buffer *buffer, size_t extra) {
    size_t needed = buffer->length + extra;
    if (needed <= buffer->capacity) {
        return 0;
    }
    size_t capacity = buffer->capacity * 2;
    while (capacity < needed) {
        capacity *= 2;
    }
    char *data = realloc(buffer->data, capacity);
    if (data == NULL) {
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

int buffer_append(Buffer *buffer, const char *text, size_t length) {
    if (buffer_reserve(buffer, length) != 0) {
        return -1;
    }
    memcpy(buffer->data + buffer->length, text, length);
    buffer->length += length;
    return 0;
}

size_t count_lines(const Buffer *buffer) {
    size_t lines = 0;
    for (size_t i = 0; i < buffer->length; i++) {
        if (buffer->data[i] == '\n') {
            lines++;
        }
    }
    return lines;
}

void buffer_free(Buffer *buffer) {
    free(buffer->data);
    buffer->data = NULL;
    buffer->length = 0;
    buffer->capacity = 0;
}

int main(void) {
    Buffer buffer;
    if (buffer_init(&buffer, 16) != 0) {
        return 1;
    }
    const char *text = "one\ntwo\nthree\n";
    buffer_append(&buffer, text, strlen(text));
    printf("%zu lines\n", count_lines(&buffer));
    buffer_free(&buffer);
    return 0;
}

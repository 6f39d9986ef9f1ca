/* answer.h: reading a generated reply: its text up to a stop string, and the letter of a multiple-choice answer. */
#ifndef EB_ANSWER_H
#define EB_ANSWER_H

#include <stddef.h>

/* The most choices one multiple-choice item may have (letters A..J). */
#define EB_ANSWER_MAX_CHOICES 10

/*
 * The length of reply's text before the first occurrence of any of `stops` (NULL or
 * NULL-terminated; empty strings are ignored), as lm-eval's generate_until cuts a reply
 * at its "until" strings; strlen(reply) when none occurs.
 */
size_t eb_answer_until(const char *reply, const char *const *stops);

/*
 * The chosen letter of a multiple-choice reply with n_choices choices lettered A, B, ...
 * (n_choices 1..EB_ANSWER_MAX_CHOICES): 0 for A, 1 for B, ..., or -1 when the reply names
 * none, or more than one, of them. The rules, tried in order on the reply with ASCII
 * whitespace trimmed (a "letter" is one of the choices' letters; "standalone": neither
 * neighbour is an ASCII letter or digit):
 *
 *  1. "answer": the first word "answer" (any case), then any of spaces, ':', '-', '*',
 *     the word "is", '(' , then a standalone letter in either case: "The answer is D",
 *     "Answer: (b)", "answer - C".
 *  2. "label": the reply starts with a letter in either case, '(' or '*' allowed before
 *     it, and the letter is the whole reply or is followed by one of . ) : , ] * or a
 *     line feed: "B", "b.", "(C)", "D) ...", "A. A man ...".
 *  3. "only": the standalone capital letters in the reply are all the same letter:
 *     "I think B", "B because ...". Two different ones ("A or B") are "ambiguous";
 *     none at all is "none". Lower-case letters count only under rules 1 and 2 (an
 *     English "a" is an article), and a capital "A" that opens a sentence counts like
 *     any other: "A man walks" reads as A.
 *
 * *rule (may be NULL) gets "answer", "label", "only", "ambiguous" or "none" (static).
 */
int eb_answer_letter(const char *reply, int n_choices, const char **rule);

#endif

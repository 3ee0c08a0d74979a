/* Request planning (coalescing); see mb_plan.h. */
#include "mb_plan.h"

#include <stdlib.h>

const char *const mb_table_names[] = {"coil", "discrete", "input", "holding", NULL};

static int span_cmp(const void *a, const void *b)
{
    const mb_span_t *x = a, *y = b;
    if (x->table != y->table)
        return x->table < y->table ? -1 : 1;
    if (x->address != y->address)
        return x->address < y->address ? -1 : 1;
    if (x->point != y->point) /* stable for equal addresses */
        return x->point < y->point ? -1 : 1;
    return 0;
}

size_t mb_plan(mb_span_t *spans, size_t n, const mb_plan_limits_t *lim, mb_block_t *blocks)
{
    size_t nb = 0;
    if (n == 0)
        return 0;
    qsort(spans, n, sizeof *spans, span_cmp);
    mb_block_t *cur = NULL;
    uint32_t cur_end = 0; /* one past the last address covered */
    for (size_t i = 0; i < n; i++) {
        const mb_span_t *s = &spans[i];
        uint32_t s_end = (uint32_t)s->address + s->count;
        unsigned limit = s->table <= MB_TABLE_DISCRETE ? lim->max_bits : lim->max_regs;
        if (cur && cur->table == s->table && s->address <= cur_end + lim->max_gap) {
            uint32_t end = s_end > cur_end ? s_end : cur_end;
            if (end - cur->address <= limit) {
                cur->n++;
                cur_end = end;
                cur->count = (uint16_t)(cur_end - cur->address);
                continue;
            }
        }
        cur = &blocks[nb++];
        cur->table = s->table;
        cur->address = s->address;
        cur->first = (uint32_t)i;
        cur->n = 1;
        cur_end = s_end;
        cur->count = (uint16_t)(cur_end - cur->address);
    }
    return nb;
}

/*
 * page.h - the page's files, embedded at build time by embed.sh from
 * tools/hazmon-web/page/ (page.c is generated, never edited).
 */
#ifndef HAZMON_WEB_PAGE_H
#define HAZMON_WEB_PAGE_H

#include <stddef.h>

extern const char page_html[], page_css[], page_js[];
extern const size_t page_html_len, page_css_len, page_js_len;

#endif /* HAZMON_WEB_PAGE_H */

/** Local command line: the same engine without GitHub. */
console.log('autoresearch-ci');

FROM busybox
CMD ["\u00e9t\u00e9", "\ud83d\ude00", "tab\there", "slash\/", "quote\"", "lone \ud800 surrogate"]
CMD ["a" "b"]
CMD ['single', 'quotes']
CMD ["unterminated", "array"
CMD ["trailing"] garbage
CMD [  "spaced"  ,  "out"  ]
ENTRYPOINT ["sh", "-c", "echo $HOME"]
RUN ["a\\b", "c\nd"]

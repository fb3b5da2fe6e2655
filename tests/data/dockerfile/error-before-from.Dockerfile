RUN echo no FROM yet
FROM alpine
